"""The ingest pipeline on a real store with the real models and real photos."""
from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from functions.ingest.sources import FolderSource
from functions.services import Services
from tests.support import FASHION, write_dataset


def _count(services: Services, sql: str, *params: object) -> int:
    with services.pool.connection() as conn:
        return conn.execute(sql, params).fetchone()[0]


def _fused(services: Services, product_id: str) -> np.ndarray:
    with services.pool.connection() as conn:
        row = conn.execute("SELECT embedding FROM fused_vectors WHERE product_id = %s", (product_id,)).fetchone()
    return row[0].to_numpy()


def _index(services: Services, folder: Path, feed: str = "catalog.jsonl"):
    return services.indexer.index_feed(FolderSource(folder), feed)


def test_feed_is_indexed_and_a_second_upload_changes_nothing(services, fashion_products, tmp_path) -> None:
    folder = write_dataset(tmp_path / "shop", fashion_products[:40])
    first = _index(services, folder)
    assert (first.read, first.indexed, first.unchanged, first.skipped) == (40, 40, 0, [])
    assert _count(services, "SELECT count(*) FROM base_embeddings WHERE modality = 'image'") == 40
    with services.pool.connection() as conn:
        stamps = conn.execute("SELECT id, updated_at FROM products ORDER BY id").fetchall()

    second = _index(services, folder)
    assert (second.indexed, second.unchanged, second.deleted) == (0, 40, 0)
    with services.pool.connection() as conn:
        assert conn.execute("SELECT id, updated_at FROM products ORDER BY id").fetchall() == stamps


def test_only_the_changed_product_is_re_encoded(services, fashion_products, tmp_path) -> None:
    products = [dict(p) for p in fashion_products[:10]]
    folder = write_dataset(tmp_path / "shop", products)
    _index(services, folder)
    before = _fused(services, products[3]["id"])
    products[3]["title"] = "Leather office bag for laptops"
    products[5]["price"] = 19.99  # not a text change: row updated, no re-encoding
    write_dataset(folder, products)
    report = _index(services, folder)
    assert (report.indexed, report.unchanged) == (2, 8)
    assert not np.allclose(before, _fused(services, products[3]["id"]))
    assert float(_count(services, "SELECT price FROM products WHERE id = %s", products[5]["id"])) == 19.99


def test_photo_arriving_after_its_product_updates_its_vectors(services, fashion_products, tmp_path) -> None:
    products = fashion_products[:5]
    folder = write_dataset(tmp_path / "shop", products)
    late = products[2]
    (folder / late["image"]).unlink()
    report = _index(services, folder)
    assert report.without_photo == 1 and report.indexed == 5
    text_only = _fused(services, late["id"])

    shutil.copy(FASHION / late["image"], folder / late["image"])
    photo_report = services.indexer.index_photo(FolderSource(folder), late["image"])
    assert photo_report.indexed == 1
    assert _count(services, "SELECT count(*) FROM base_embeddings WHERE product_id = %s AND modality = 'image'",
                  late["id"]) == 1
    assert not np.allclose(text_only, _fused(services, late["id"]))


def test_full_feed_deletes_what_it_no_longer_lists_and_delta_only_upserts(
        services, fashion_products, tmp_path) -> None:
    products = fashion_products[:6]
    folder = write_dataset(tmp_path / "shop", products)
    _index(services, folder)
    # The next full upload drops product 0 and has a malformed line for product 1.
    lines = [json.dumps(p) for p in products[2:]] + [json.dumps({"id": products[1]["id"], "title": 5})]
    (folder / "catalog.jsonl").write_text("\n".join(lines) + "\n")
    report = _index(services, folder)
    assert report.deleted == 1 and len(report.skipped) == 1
    live = "SELECT count(*) FROM products WHERE NOT deleted"
    assert _count(services, live) == 5
    assert _count(services, "SELECT count(*) FROM fused_vectors WHERE product_id = %s", products[0]["id"]) == 0

    delta = folder / "updates.delta.jsonl"
    delta.write_text(json.dumps({"id": products[2]["id"], "deleted": True}) + "\n"
                     + json.dumps({"id": "new-1", "title": "Red wool scarf", "category": "Scarves"}) + "\n")
    report = _index(services, folder, "updates.delta.jsonl")
    assert (report.indexed, report.deleted) == (1, 1)
    assert _count(services, live) == 5


def _bomb_png() -> bytes:
    # 100 megapixels of one colour: a few kB of PNG that would decode to 100 MB.
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_bad_photos_skip_their_records_and_keep_the_rest(services, fashion_products, tmp_path) -> None:
    products = [dict(p) for p in fashion_products[:6]]
    folder = write_dataset(tmp_path / "shop", products)
    (folder / products[1]["image"]).write_bytes(b"\xff\xd8 this is no jpeg")
    products[2]["image"] = "images/bomb.png"
    (folder / "images" / "bomb.png").write_bytes(_bomb_png())
    write_dataset(folder, products)
    (folder / products[1]["image"]).write_bytes(b"\xff\xd8 this is no jpeg")
    report = _index(services, folder)
    assert report.indexed == 4
    reasons = {r.product_id: r.reason for r in report.skipped}
    assert "cannot decode image" in reasons[products[1]["id"]]
    assert "exceeds the limit" in reasons[products[2]["id"]]
    # Nothing of a skipped record is written: no product row, no vectors.
    for skipped in (products[1]["id"], products[2]["id"]):
        assert _count(services, "SELECT count(*) FROM products WHERE id = %s", skipped) == 0
        assert _count(services, "SELECT count(*) FROM base_embeddings WHERE product_id = %s", skipped) == 0
