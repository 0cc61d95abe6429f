"""Nearest-neighbour queries over one model version's fused vectors (HNSW, cosine)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from functions.store.filters import ProductFilter

# HNSW filters after the index scan; iterative scan keeps scanning until the filtered result is
# full (or the tuple budget runs out), so a filtered query still returns k items when k exist.
EF_SEARCH = 100


@dataclass(frozen=True)
class VectorSpace:
    """A model version's fused space: queries must cast to its dimension to use its index."""

    version: str
    dim: int


def fused_vectors(conn: psycopg.Connection, space: VectorSpace, product_ids: Sequence[str]) -> dict[str, np.ndarray]:
    rows = conn.execute(
        "SELECT product_id, embedding FROM fused_vectors WHERE product_id = ANY(%s) AND model_version = %s",
        (list(product_ids), space.version),
    ).fetchall()
    return {product_id: np.asarray(vector.to_numpy(), dtype=np.float32) for product_id, vector in rows}


def fused_vector(conn: psycopg.Connection, space: VectorSpace, product_id: str) -> np.ndarray | None:
    return fused_vectors(conn, space, [product_id]).get(product_id)


def nearest(conn: psycopg.Connection, space: VectorSpace, query: np.ndarray, k: int,
            product_filter: ProductFilter = ProductFilter()) -> list[dict[str, Any]]:
    """The k live products closest to ``query`` that pass the filter, best first, with cosine
    similarity as ``score``."""
    where, params = product_filter.where("p")
    params.update(query=query, k=k)
    distance = sql.SQL("f.embedding::vector({dim}) <=> %(query)s::vector({dim})").format(
        dim=sql.Literal(space.dim))
    # The version is a literal, not a parameter, so the planner can match the version's partial
    # index; relaxed order is re-sorted by the outer query.
    query_sql = sql.SQL(
        """
        WITH candidates AS MATERIALIZED (
            SELECT p.id, p.title, p.category, p.price, p.in_stock, p.image_key, {distance} AS distance
            FROM fused_vectors f JOIN products p ON p.id = f.product_id
            WHERE f.model_version = {version} AND {where}
            ORDER BY distance LIMIT %(k)s
        )
        SELECT id, title, category, price, in_stock, image_key, 1 - distance AS score
        FROM candidates ORDER BY distance
        """
    ).format(distance=distance, version=sql.Literal(space.version), where=where)
    with conn.transaction():
        conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        conn.execute(sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(max(EF_SEARCH, k))))
        with conn.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(query_sql, params).fetchall()
