"""Validation of query parameters and request bodies; every problem is an InvalidInput naming it."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Mapping

from functions.errors import InvalidInput, PayloadTooLarge

MAX_K = 100
DEFAULT_K = 10
MAX_LIST_ITEMS = 100
MAX_QUERY_TEXT = 2_000
# API Gateway caps a request at 10 MB; base64 inflates by 4/3, so 6 MB of photo still fits.
MAX_IMAGE_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True)
class ListOptions:
    k: int = DEFAULT_K
    categories: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


def reject_unknown(given: Mapping[str, Any], allowed: set[str]) -> None:
    """Refuse parameters the endpoint does not know: a typo must not be silently ignored."""
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise InvalidInput(f"unknown parameter(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def parse_k(value: Any) -> int:
    if value is None:
        return DEFAULT_K
    if isinstance(value, bool):
        raise InvalidInput("'k' must be an integer")
    try:
        k = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"'k' must be an integer, got {value!r}") from None
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"'k' must be between 1 and {MAX_K}, got {k}")
    return k


def _csv(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    if not all(isinstance(item, str) for item in items):
        raise InvalidInput(f"'{name}' must be a list of strings")
    cleaned = tuple(item.strip() for item in items if item.strip())
    if len(cleaned) > MAX_LIST_ITEMS:
        raise InvalidInput(f"'{name}' takes at most {MAX_LIST_ITEMS} values")
    return cleaned


def list_options(params: Mapping[str, Any] | None) -> ListOptions:
    """k, category and exclude from a query string (comma-separated lists)."""
    params = params or {}
    reject_unknown(params, {"k", "category", "exclude"})
    return ListOptions(k=parse_k(params.get("k")), categories=_csv(params.get("category"), "category"),
                       exclude=_csv(params.get("exclude"), "exclude"))


@dataclass(frozen=True)
class SearchRequest:
    options: ListOptions
    text: str | None = None
    image: bytes | None = None


def parse_json_object(raw: bytes | str | None) -> dict[str, Any]:
    if not raw:
        raise InvalidInput("request body must be a JSON object")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidInput("request body must be a JSON object")
    return body


def search_request(body: dict[str, Any]) -> SearchRequest:
    """``{"text": ...}`` or ``{"image": <base64>}``, plus optional k, category, exclude."""
    reject_unknown(body, {"text", "image", "k", "category", "exclude"})
    options = ListOptions(k=parse_k(body.get("k")), categories=_csv(body.get("category"), "category"),
                          exclude=_csv(body.get("exclude"), "exclude"))
    text, image = body.get("text"), body.get("image")
    if (text is None) == (image is None):
        raise InvalidInput("give exactly one of 'text' or 'image'")
    if text is not None:
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("'text' must be a non-empty string")
        if len(text) > MAX_QUERY_TEXT:
            raise InvalidInput(f"'text' is longer than {MAX_QUERY_TEXT} characters")
        return SearchRequest(options=options, text=text.strip())
    if not isinstance(image, str):
        raise InvalidInput("'image' must be a base64 string")
    if len(image) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise PayloadTooLarge(f"'image' is larger than {MAX_IMAGE_BYTES} bytes")
    try:
        data = base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("'image' is not valid base64") from None
    return SearchRequest(options=options, image=data)
