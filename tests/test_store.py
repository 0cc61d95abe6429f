"""The store alone: migrations, model versions with their HNSW index, filtered nearest search."""
from __future__ import annotations

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb

from functions.store.filters import ProductFilter
from functions.store.migrate import migrate
from functions.store.models import activate_model, active_model, index_name, register_model
from functions.store.vectors import VectorSpace, nearest


@pytest.fixture
def conn(database_url):
    with psycopg.connect(database_url, autocommit=True) as connection:
        assert migrate(connection)[0] == "0001_initial.sql"
        register_vector(connection)
        yield connection


def test_migrations_apply_once(conn) -> None:
    assert migrate(conn) == []
    assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] >= 2


def test_versions_get_an_index_and_one_is_active(conn) -> None:
    register_model(conn, "v1", 8, {"note": "first"})
    register_model(conn, "v2", 4, {})
    indexes = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'fused_vectors'")}
    assert {index_name("v1"), index_name("v2")} <= indexes
    assert active_model(conn) is None
    activate_model(conn, "v1")
    activate_model(conn, "v2")
    assert active_model(conn) == ("v2", 4)
    assert conn.execute("SELECT status FROM models WHERE version = 'v1'").fetchone()[0] == "retired"
    with pytest.raises(LookupError):
        activate_model(conn, "v3")
    with pytest.raises(ValueError):
        register_model(conn, "bad'; drop table products; --", 4, {})


def test_filtered_search_uses_the_index_and_still_fills_k(conn) -> None:
    # 2,000 products, only 30 in the wanted category: HNSW alone would return a handful.
    rng = np.random.default_rng(0)
    space = VectorSpace("v1", 16)
    register_model(conn, space.version, space.dim, {})
    vectors = rng.standard_normal((2000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with conn.transaction():
        for i, vector in enumerate(vectors):
            conn.execute("INSERT INTO products (id, title, category, attributes, content_hash, text_hash)"
                         " VALUES (%s, %s, %s, %s, '-', '-')",
                         (f"p{i}", f"product {i}", "rare" if i % 67 == 0 else "common", Jsonb({})))
            conn.execute("INSERT INTO fused_vectors VALUES (%s, %s, %s)", (f"p{i}", space.version, vector))
    conn.execute("ANALYZE")
    plan = "\n".join(row[0] for row in conn.execute(
        "EXPLAIN SELECT product_id FROM fused_vectors WHERE model_version = 'v1'"
        " ORDER BY embedding::vector(16) <=> %s::vector(16) LIMIT 10", (vectors[0],)))
    assert index_name("v1") in plan

    rows = nearest(conn, space, vectors[1], 20, ProductFilter(categories=("rare",)))
    assert len(rows) == 20 and {row["category"] for row in rows} == {"rare"}
    exact = sorted((i for i in range(2000) if i % 67 == 0), key=lambda i: -vectors[i] @ vectors[1])[:20]
    assert len({row["id"] for row in rows} & {f"p{i}" for i in exact}) >= 18
    scores = [row["score"] for row in rows]
    assert scores == sorted(scores, reverse=True)
