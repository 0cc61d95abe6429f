"""Products and their base embeddings: what ingest reads to plan and writes per batch."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from functions.ingest.feed import FeedRecord

PRODUCT_COLUMNS = "id, title, description, category, price, in_stock, attributes, image_key"


@dataclass(frozen=True)
class StoredProduct:
    """What is stored for a product, as far as deciding what to re-encode goes."""

    content_hash: str
    text_hash: str
    image_key: str | None
    image_fingerprint: str | None
    feed: str | None
    deleted: bool
    text_current: bool
    image_current: bool
    fused_current: bool


@dataclass
class ProductWrite:
    """One product's complete new state, written in its batch's transaction."""

    record: FeedRecord
    feed: str
    image_key: str | None
    image_fingerprint: str | None
    content_hash: str
    text_hash: str
    fused: np.ndarray
    # Only freshly encoded vectors; None keeps what is stored.
    text_vector: np.ndarray | None = None
    image_vector: np.ndarray | None = None


def stored_products(conn: psycopg.Connection, ids: Sequence[str], text_encoder: str,
                    image_encoder: str, model_version: str) -> dict[str, StoredProduct]:
    rows = conn.execute(
        """
        SELECT p.id, p.content_hash, p.text_hash, p.image_key, p.image_fingerprint, p.feed, p.deleted,
               EXISTS (SELECT 1 FROM base_embeddings b WHERE b.product_id = p.id AND b.modality = 'text'
                       AND b.encoder_version = %(text)s AND b.source_hash = p.text_hash),
               EXISTS (SELECT 1 FROM base_embeddings b WHERE b.product_id = p.id AND b.modality = 'image'
                       AND b.encoder_version = %(image)s AND b.source_hash = p.image_fingerprint),
               EXISTS (SELECT 1 FROM fused_vectors f WHERE f.product_id = p.id
                       AND f.model_version = %(model)s)
        FROM products p WHERE p.id = ANY(%(ids)s)
        """,
        {"ids": list(ids), "text": text_encoder, "image": image_encoder, "model": model_version},
    ).fetchall()
    return {row[0]: StoredProduct(*row[1:]) for row in rows}


def base_vectors(conn: psycopg.Connection, ids: Sequence[str], modality: str,
                 encoder_version: str) -> dict[str, np.ndarray]:
    """Stored base vectors that match the product's current text or photo."""
    source_column = "text_hash" if modality == "text" else "image_fingerprint"
    rows = conn.execute(
        f"""
        SELECT b.product_id, b.embedding FROM base_embeddings b JOIN products p ON p.id = b.product_id
        WHERE b.product_id = ANY(%s) AND b.modality = %s AND b.encoder_version = %s
          AND b.source_hash = p.{source_column}
        """,
        (list(ids), modality, encoder_version),
    ).fetchall()
    return {product_id: np.asarray(vector.to_numpy(), dtype=np.float32) for product_id, vector in rows}


def _upsert_base(conn: psycopg.Connection, product_id: str, modality: str, encoder_version: str,
                 source_hash: str, vector: np.ndarray) -> None:
    conn.execute(
        """
        INSERT INTO base_embeddings (product_id, modality, encoder_version, source_hash, embedding)
        VALUES (%s, %s, %s, %s, %s)
        ON CONFLICT (product_id, modality, encoder_version)
        DO UPDATE SET source_hash = EXCLUDED.source_hash, embedding = EXCLUDED.embedding, created_at = now()
        """,
        (product_id, modality, encoder_version, source_hash, vector),
    )


def write_products(conn: psycopg.Connection, writes: Iterable[ProductWrite], *, text_encoder: str,
                   image_encoder: str, model_version: str) -> int:
    """Write a batch — product rows, new base vectors, fused vectors — in one transaction."""
    count = 0
    with conn.transaction():
        for write in writes:
            record = write.record
            conn.execute(
                """
                INSERT INTO products (id, title, description, category, price, in_stock, attributes,
                                      image_key, content_hash, text_hash, image_fingerprint, feed, deleted)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, false)
                ON CONFLICT (id) DO UPDATE SET
                    title = EXCLUDED.title, description = EXCLUDED.description,
                    category = EXCLUDED.category, price = EXCLUDED.price, in_stock = EXCLUDED.in_stock,
                    attributes = EXCLUDED.attributes, image_key = EXCLUDED.image_key,
                    content_hash = EXCLUDED.content_hash, text_hash = EXCLUDED.text_hash,
                    image_fingerprint = EXCLUDED.image_fingerprint, feed = EXCLUDED.feed,
                    deleted = false, updated_at = now()
                """,
                (record.id, record.title, record.description, record.category, record.price,
                 record.in_stock, Jsonb(record.attributes), write.image_key, write.content_hash,
                 write.text_hash, write.image_fingerprint, write.feed),
            )
            if write.text_vector is not None:
                _upsert_base(conn, record.id, "text", text_encoder, write.text_hash, write.text_vector)
            if write.image_vector is not None and write.image_fingerprint is not None:
                _upsert_base(conn, record.id, "image", image_encoder, write.image_fingerprint,
                             write.image_vector)
            conn.execute(
                """
                INSERT INTO fused_vectors (product_id, model_version, embedding) VALUES (%s, %s, %s)
                ON CONFLICT (product_id, model_version) DO UPDATE SET embedding = EXCLUDED.embedding
                """,
                (record.id, model_version, write.fused),
            )
            count += 1
    return count


def mark_deleted(conn: psycopg.Connection, ids: Iterable[str]) -> int:
    """Soft-delete: the product leaves every answer; its row and base vectors stay, so a product
    that comes back is cheap and past events still name it."""
    ids = list(ids)
    if not ids:
        return 0
    with conn.transaction():
        conn.execute("DELETE FROM fused_vectors WHERE product_id = ANY(%s)", (ids,))
        cursor = conn.execute(
            "UPDATE products SET deleted = true, updated_at = now() WHERE id = ANY(%s) AND NOT deleted",
            (ids,))
        return cursor.rowcount


def ids_missing_from_feed(conn: psycopg.Connection, feed: str, mentioned: set[str]) -> list[str]:
    """Live products last written by ``feed`` that the new upload of it no longer lists."""
    rows = conn.execute("SELECT id FROM products WHERE feed = %s AND NOT deleted", (feed,)).fetchall()
    return [row[0] for row in rows if row[0] not in mentioned]


def records_with_image(conn: psycopg.Connection, image_key: str) -> list[tuple[FeedRecord, str]]:
    """The live products whose photo is ``image_key``, as records with the feed that wrote them."""
    rows = conn.execute(
        f"SELECT {PRODUCT_COLUMNS}, feed FROM products WHERE image_key = %s AND NOT deleted",
        (image_key,),
    ).fetchall()
    return [(_record_from_row(row), row[-1]) for row in rows]


def _record_from_row(row: Sequence[Any]) -> FeedRecord:
    product_id, title, description, category, price, in_stock, attributes, image_key = row[:8]
    return FeedRecord(id=product_id, title=title, description=description, category=category,
                      price=float(price) if price is not None else None, in_stock=in_stock,
                      attributes=attributes, image=image_key)


def get_product(conn: psycopg.Connection, product_id: str) -> dict[str, Any] | None:
    """A live product as a plain dict, or None."""
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(
            f"SELECT {PRODUCT_COLUMNS}, updated_at FROM products WHERE id = %s AND NOT deleted",
            (product_id,),
        ).fetchone()


def export_vectors(conn: psycopg.Connection, text_encoder: str, image_encoder: str,
                   model_version: str) -> tuple[list[str], list[str | None], dict[str, np.ndarray]]:
    """Every live product with its current text, image and fused vectors (zeros where missing)."""
    rows = conn.execute(
        """
        SELECT p.id, p.category, t.embedding, i.embedding, f.embedding
        FROM products p
        LEFT JOIN base_embeddings t ON t.product_id = p.id AND t.modality = 'text'
             AND t.encoder_version = %(text)s AND t.source_hash = p.text_hash
        LEFT JOIN base_embeddings i ON i.product_id = p.id AND i.modality = 'image'
             AND i.encoder_version = %(image)s AND i.source_hash = p.image_fingerprint
        LEFT JOIN fused_vectors f ON f.product_id = p.id AND f.model_version = %(model)s
        WHERE NOT p.deleted ORDER BY p.id
        """,
        {"text": text_encoder, "image": image_encoder, "model": model_version},
    ).fetchall()
    ids = [row[0] for row in rows]
    categories = [row[1] for row in rows]
    vectors = {}
    for column, space in ((2, "text"), (3, "image"), (4, "fused")):
        dim = next((len(row[column].to_numpy()) for row in rows if row[column] is not None), 0)
        matrix = np.zeros((len(rows), dim), dtype=np.float32)
        for i, row in enumerate(rows):
            if row[column] is not None:
                matrix[i] = row[column].to_numpy()
        vectors[space] = matrix
    return ids, categories, vectors


def get_products(conn: psycopg.Connection, product_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Live products by id, as plain dicts."""
    with conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(
            f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ANY(%s) AND NOT deleted", (list(product_ids),)
        ).fetchall()
    return {row["id"]: row for row in rows}


def write_fused(conn: psycopg.Connection, rows: Iterable[tuple[str, np.ndarray]], model_version: str) -> None:
    """Fused vectors of one version for many products, in one transaction."""
    with conn.transaction(), conn.cursor() as cursor:
        cursor.executemany(
            """
            INSERT INTO fused_vectors (product_id, model_version, embedding) VALUES (%s, %s, %s)
            ON CONFLICT (product_id, model_version) DO UPDATE SET embedding = EXCLUDED.embedding
            """,
            [(product_id, model_version, vector) for product_id, vector in rows])
