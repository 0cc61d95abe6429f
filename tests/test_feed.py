"""Stage 1 alone: every kind of bad line is rejected with a reason; good lines survive."""
from __future__ import annotations

import json

from functions.ingest.feed import parse_feed


def line(**fields: object) -> str:
    return json.dumps(fields)


GOOD = line(id="1", title="Blue shirt", category="Shirts", attributes={"colour": "Blue"},
            image="images/1.jpg")


def test_good_record_is_parsed_with_its_fields() -> None:
    parsed = parse_feed([GOOD])
    assert parsed.rejections == []
    (record,) = parsed.records
    assert (record.id, record.title, record.category, record.image) == ("1", "Blue shirt", "Shirts", "images/1.jpg")
    assert record.attributes == {"colour": "Blue"}
    assert "Blue shirt" in record.encoder_text() and "colour: Blue" in record.encoder_text()


def test_each_bad_line_is_rejected_with_its_reason_and_the_rest_kept() -> None:
    lines = [
        GOOD,
        "{not json",
        line(title="no id"),
        line(id=7, title="numeric id"),
        line(id="2"),
        line(id="3", title="x", price="cheap"),
        line(id="4", title="x", attributes={"size": 42}),
        line(id="5", title="x", image="../../etc/passwd"),
        line(id="6", title="x", in_stock="yes"),
        json.dumps(["a", "list"]),
        line(id="1", title="duplicate"),
        "",
        line(id="8", title="Fine too", price=12.5, in_stock=False),
    ]
    parsed = parse_feed(lines)
    assert [r.id for r in parsed.records] == ["1", "8"]
    reasons = {r.line_no: r.reason for r in parsed.rejections}
    assert "malformed JSON" in reasons[2]
    assert "missing 'id'" in reasons[3]
    assert "'id' must be a string" in reasons[4]
    assert "title" in reasons[5]
    assert "'price'" in reasons[6]
    assert "attribute values must be strings" in reasons[7]
    assert "inside the feed's folder" in reasons[8]
    assert "'in_stock'" in reasons[9]
    assert "JSON object" in reasons[10]
    assert "duplicate id" in reasons[11]
    assert len(parsed.rejections) == 10


def test_ids_of_rejected_lines_still_count_as_mentioned() -> None:
    # A malformed line must not make a full feed delete the product it names.
    parsed = parse_feed([GOOD, line(id="2", title="x", price=-1)])
    assert parsed.mentioned_ids == {"1", "2"}


def test_deleted_marker_is_collected() -> None:
    parsed = parse_feed([GOOD, line(id="9", deleted=True)])
    assert parsed.deleted_ids == {"9"} and [r.id for r in parsed.records] == ["1"]


def test_content_and_text_hashes_follow_the_fields() -> None:
    (a,) = parse_feed([GOOD]).records
    (b,) = parse_feed([line(id="1", title="Blue shirt", category="Shirts", attributes={"colour": "Blue"},
                            image="images/1.jpg", price=10)]).records
    assert a.text_hash() == b.text_hash()
    assert a.content_hash("images/1.jpg") != b.content_hash("images/1.jpg")
