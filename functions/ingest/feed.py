"""Stage 1: parse a feed (``catalog.jsonl``, one product per line) into validated records.

A bad line never stops the feed: it becomes a ``Rejection`` with its line number and reason, and
every valid line is still indexed.
"""
from __future__ import annotations

import hashlib
import json
import math
import posixpath
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

MAX_ID_LENGTH = 256
MAX_TITLE_LENGTH = 1_000
MAX_DESCRIPTION_LENGTH = 20_000


@dataclass(frozen=True)
class FeedRecord:
    """One valid product of a feed."""

    id: str
    title: str
    description: str = ""
    category: str | None = None
    price: float | None = None
    in_stock: bool = True
    attributes: dict[str, str] = field(default_factory=dict)
    # Path of the photo relative to the feed's folder, as the feed gives it.
    image: str | None = None
    line_no: int = 0

    def encoder_text(self) -> str:
        """The text the text encoder reads: title, category, description and attributes."""
        parts = [self.title]
        if self.category:
            parts.append(self.category)
        if self.description:
            parts.append(self.description)
        if self.attributes:
            parts.append(", ".join(f"{key}: {value}" for key, value in sorted(self.attributes.items())))
        return ". ".join(parts)

    def text_hash(self) -> str:
        return _sha256(self.encoder_text())

    def content_hash(self, image_key: str | None) -> str:
        fields = asdict(self)
        fields.pop("line_no")
        fields["image"] = image_key
        return _sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False))


@dataclass(frozen=True)
class Rejection:
    """A feed line that was skipped, and why. ``product_id`` is set when the line named one."""

    line_no: int
    reason: str
    product_id: str | None = None


@dataclass
class ParsedFeed:
    records: list[FeedRecord]
    rejections: list[Rejection]
    # Every id the feed names, valid or not: a full feed deletes only what it no longer lists,
    # never a product whose line was merely malformed this time.
    mentioned_ids: set[str]
    deleted_ids: set[str]


class _Invalid(ValueError):
    pass


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _optional_str(obj: dict[str, Any], key: str, limit: int) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(f"'{key}' must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise _Invalid(f"'{key}' is longer than {limit} characters")
    return value.strip()


def _product_id(obj: dict[str, Any]) -> str:
    if "id" not in obj:
        raise _Invalid("missing 'id'")
    value = obj["id"]
    if not isinstance(value, str):
        raise _Invalid(f"'id' must be a string, got {type(value).__name__}")
    value = value.strip()
    if not value or len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise _Invalid(f"'id' must be 1..{MAX_ID_LENGTH} printable characters")
    return value


def _price(obj: dict[str, Any]) -> float | None:
    value = obj.get("price")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Invalid("'price' must be a finite number")
    if value < 0:
        raise _Invalid("'price' must not be negative")
    return float(value)


def _attributes(obj: dict[str, Any]) -> dict[str, str]:
    value = obj.get("attributes")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Invalid(f"'attributes' must be an object, got {type(value).__name__}")
    bad = [key for key, item in value.items() if not isinstance(item, str)]
    if bad:
        raise _Invalid(f"attribute values must be strings: {', '.join(sorted(bad)[:5])}")
    return {key: item.strip() for key, item in value.items()}


def _image_path(obj: dict[str, Any]) -> str | None:
    value = _optional_str(obj, "image", 1024)
    if not value:
        return None
    normalised = posixpath.normpath(value)
    if normalised.startswith(("/", "../")) or normalised == "..":
        raise _Invalid("'image' must be a path inside the feed's folder")
    return normalised


def _in_stock(obj: dict[str, Any]) -> bool:
    value = obj.get("in_stock", True)
    if not isinstance(value, bool):
        raise _Invalid("'in_stock' must be true or false")
    return value


def parse_record(obj: Any, line_no: int) -> FeedRecord:
    """Validate one decoded JSON value; raises ValueError naming the first problem."""
    if not isinstance(obj, dict):
        raise _Invalid(f"a line must be a JSON object, got {type(obj).__name__}")
    title = _optional_str(obj, "title", MAX_TITLE_LENGTH)
    if not title:
        raise _Invalid("missing or empty 'title'")
    return FeedRecord(
        id=_product_id(obj),
        title=title,
        description=_optional_str(obj, "description", MAX_DESCRIPTION_LENGTH) or "",
        category=_optional_str(obj, "category", MAX_TITLE_LENGTH) or None,
        price=_price(obj),
        in_stock=_in_stock(obj),
        attributes=_attributes(obj),
        image=_image_path(obj),
        line_no=line_no,
    )


def _mentioned_id(obj: Any) -> str | None:
    if isinstance(obj, dict) and isinstance(obj.get("id"), str) and obj["id"].strip():
        return obj["id"].strip()
    return None


def parse_feed(lines: Iterable[str], first_line_no: int = 1) -> ParsedFeed:
    """Parse feed lines; blank lines are ignored, ``{"id": ..., "deleted": true}`` deletes.

    ``first_line_no`` is the number of the first line given: a batch of a large feed (see
    ingest/batches.py) reports rejections with their line numbers in the whole file.
    """
    parsed = ParsedFeed(records=[], rejections=[], mentioned_ids=set(), deleted_ids=set())
    first_line_of: dict[str, int] = {}
    for line_no, line in enumerate(lines, start=first_line_no):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.rejections.append(Rejection(line_no, f"malformed JSON: {exc.msg}"))
            continue
        product_id = _mentioned_id(obj)
        if product_id is not None:
            parsed.mentioned_ids.add(product_id)
        try:
            if isinstance(obj, dict) and obj.get("deleted") is True:
                parsed.deleted_ids.add(_product_id(obj))
                continue
            record = parse_record(obj, line_no)
        except _Invalid as exc:
            parsed.rejections.append(Rejection(line_no, str(exc), product_id))
            continue
        if record.id in first_line_of:
            parsed.rejections.append(Rejection(
                line_no, f"duplicate id (first on line {first_line_of[record.id]})", record.id))
            continue
        first_line_of[record.id] = line_no
        parsed.records.append(record)
    return parsed
