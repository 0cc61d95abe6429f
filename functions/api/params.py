"""Validation of query parameters and request bodies; every problem is an InvalidInput naming it."""
from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from functions.errors import InvalidInput, PayloadTooLarge
from functions.recommenders.base import EVENT_TYPES
from functions.store.events import NewEvent
from functions.store.filters import ProductFilter

MAX_K = 100
DEFAULT_K = 10
MAX_LIST_ITEMS = 100
MAX_QUERY_TEXT = 2_000
# API Gateway caps a request at 10 MB; base64 inflates by 4/3, so 6 MB of photo still fits.
MAX_IMAGE_BYTES = 6 * 1024 * 1024


FILTER_PARAMETERS = {"category", "exclude", "min_price", "max_price", "in_stock"}
LIST_PARAMETERS = {"k"} | FILTER_PARAMETERS


@dataclass(frozen=True)
class ListOptions:
    k: int = DEFAULT_K
    filter: ProductFilter = ProductFilter()


def reject_unknown(given: Mapping[str, Any], allowed: set[str]) -> None:
    """Refuse parameters the endpoint does not know: a typo must not be silently ignored."""
    unknown = sorted(set(given) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise InvalidInput(f"unknown parameter(s): {', '.join(unknown)}; allowed: {known}")


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


def _price(value: Any, name: str) -> float | None:
    if value is None:
        return None
    try:
        price = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"'{name}' must be a number, got {value!r}") from None
    if not math.isfinite(price) or price < 0:
        raise InvalidInput(f"'{name}' must be a non-negative number")
    return price


def parse_flag(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise InvalidInput(f"'{name}' must be true or false, got {value!r}")


def product_filter(params: Mapping[str, Any]) -> ProductFilter:
    """The business filters of a query string or body: category and exclude (lists), price range,
    stock."""
    low, high = _price(params.get("min_price"), "min_price"), _price(params.get("max_price"), "max_price")
    if low is not None and high is not None and low > high:
        raise InvalidInput("'min_price' is greater than 'max_price'")
    return ProductFilter(categories=_csv(params.get("category"), "category"), min_price=low, max_price=high,
                         in_stock=parse_flag(params.get("in_stock"), "in_stock"),
                         exclude=_csv(params.get("exclude"), "exclude"))


def list_options(params: Mapping[str, Any] | None, extra: set[str] = frozenset()) -> ListOptions:
    """k and the filters from a query string (lists comma-separated); ``extra`` names the
    endpoint's own parameters, read by the caller."""
    params = params or {}
    reject_unknown(params, LIST_PARAMETERS | extra)
    return ListOptions(k=parse_k(params.get("k")), filter=product_filter(params))


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
    reject_unknown(body, {"text", "image"} | LIST_PARAMETERS)
    options = ListOptions(k=parse_k(body.get("k")), filter=product_filter(body))
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


MAX_EVENTS_PER_REQUEST = 500
MAX_ID_LENGTH = 256
# Clocks drift; an event stamped this far in the future is a client bug, not a clock.
MAX_CLOCK_SKEW = timedelta(minutes=5)
OLDEST_EVENT = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _identifier(value: Any, name: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise InvalidInput(f"{where}: '{name}' must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    return value.strip()


def _timestamp(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{where}: 'timestamp' must be ISO 8601, got {value!r}") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    if not OLDEST_EVENT <= ts <= datetime.now(timezone.utc) + MAX_CLOCK_SKEW:
        raise InvalidInput(f"{where}: 'timestamp' {value!r} is out of range (2000 .. now)")
    return ts


def parse_event(obj: Any, where: str) -> NewEvent:
    if not isinstance(obj, dict):
        raise InvalidInput(f"{where}: an event must be a JSON object")
    reject_unknown(obj, {"user_id", "session_id", "item_id", "type", "timestamp", "event_id"})
    user, session = _identifier(obj.get("user_id"), "user_id", where), _identifier(obj.get("session_id"), "session_id", where)
    if user is None and session is None:
        raise InvalidInput(f"{where}: give 'user_id' or 'session_id'")
    item = _identifier(obj.get("item_id"), "item_id", where)
    if item is None:
        raise InvalidInput(f"{where}: missing 'item_id'")
    if obj.get("type") not in EVENT_TYPES:
        raise InvalidInput(f"{where}: 'type' must be one of {', '.join(EVENT_TYPES)}")
    return NewEvent(item_id=item, type=obj["type"], user_id=user, session_id=session,
                    ts=_timestamp(obj.get("timestamp"), where),
                    event_id=_identifier(obj.get("event_id"), "event_id", where))


def parse_events(body: Any) -> list[NewEvent]:
    """One event object, or ``{"events": [...]}`` with up to 500; any bad event refuses the batch."""
    if isinstance(body, dict) and "events" in body:
        reject_unknown(body, {"events"})
        items = body["events"]
        if not isinstance(items, list) or not items:
            raise InvalidInput("'events' must be a non-empty list")
        if len(items) > MAX_EVENTS_PER_REQUEST:
            raise PayloadTooLarge(f"at most {MAX_EVENTS_PER_REQUEST} events per request")
        return [parse_event(item, f"events[{i}]") for i, item in enumerate(items)]
    return [parse_event(body, "event")]


def parse_days(value: Any) -> int:
    try:
        days = int(value) if value is not None else 7
    except (TypeError, ValueError):
        raise InvalidInput(f"'days' must be an integer, got {value!r}") from None
    if not 1 <= days <= 365:
        raise InvalidInput(f"'days' must be between 1 and 365, got {days}")
    return days
