"""Similar-items query latency (p50, p99) and HNSW recall@10 against exact search.

Synthetic clustered unit vectors stand in for a catalog at 10k and 100k products; the queries go
through the same store code as the API (``functions.store.vectors.nearest``), on the embedded
PostgreSQL + pgvector. Run: ``.venv/bin/python bench/similar_latency.py [--sizes 10000,100000]``.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb

from functions.store.database import open_pool
from functions.store.embedded import start_embedded_postgres
from functions.store.filters import ProductFilter
from functions.store.models import register_model
from functions.store.vectors import VectorSpace, nearest


def clustered_vectors(count: int, dim: int, clusters: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors around ``clusters`` centres — catalogs are lumpy (categories), not uniform."""
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    members = centres[rng.integers(0, clusters, count)]
    vectors = members + 0.6 * rng.standard_normal((count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def load(conn: psycopg.Connection, vectors: np.ndarray, version: str) -> float:
    """Bulk-load products and fused vectors, then build the HNSW index; returns the build seconds."""
    conn.execute("INSERT INTO models (version, manifest, dim, status) VALUES (%s, %s, %s, 'active')",
                 (version, Jsonb({}), vectors.shape[1]))
    with conn.cursor().copy("COPY products (id, title, content_hash, text_hash) FROM STDIN") as copy:
        for i in range(len(vectors)):
            copy.write_row((f"p{i}", f"product {i}", "-", "-"))
    with conn.cursor().copy(
            "COPY fused_vectors (product_id, model_version, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["text", "text", "vector"])
        for i, vector in enumerate(vectors):
            copy.write_row((f"p{i}", version, vector))
    conn.execute("SET maintenance_work_mem = '3GB'")
    started = time.perf_counter()
    register_model(conn, version, vectors.shape[1], {})
    return time.perf_counter() - started


def run(size: int, dim: int, queries: int, url: str, rng: np.random.Generator) -> dict[str, float]:
    database = f"bench_{size}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {database}")
        admin.execute(f"CREATE DATABASE {database}")
    pool = open_pool(psycopg.conninfo.make_conninfo(url, dbname=database))
    vectors = clustered_vectors(size, dim, clusters=max(20, size // 500), rng=rng)
    space = VectorSpace(f"bench-{size}", dim)
    with pool.connection() as conn:
        register_vector(conn)
        build_seconds = load(conn, vectors, space.version)
        conn.execute("VACUUM ANALYZE fused_vectors")
        probe = rng.choice(size, queries, replace=False)
        latencies, recalls = [], []
        for i in probe:
            anchor = vectors[i]
            started = time.perf_counter()
            rows = nearest(conn, space, anchor, 10, ProductFilter(exclude=(f"p{i}",)))
            latencies.append(time.perf_counter() - started)
            exact = [j for j in np.argsort(-(vectors @ anchor))[:11] if j != i][:10]
            truth = {f"p{j}" for j in exact}
            recalls.append(len({row["id"] for row in rows} & truth) / 10)
    pool.close()
    ms = np.array(latencies) * 1000
    return {"size": size, "dim": dim, "index_build_s": build_seconds, "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "recall_at_10": float(np.mean(recalls))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--dim", type=int, default=1664, help="fused dimension (fusion v0: 384 + 1280)")
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        url = start_embedded_postgres(Path(folder))
        print(f"{'products':>9} {'dim':>5} {'index build s':>14} {'p50 ms':>8} {'p99 ms':>8} {'recall@10':>10}")
        for size in (int(s) for s in args.sizes.split(",")):
            r = run(size, args.dim, args.queries, url, rng)
            print(f"{r['size']:>9} {r['dim']:>5} {r['index_build_s']:>14.1f} {r['p50_ms']:>8.2f} "
                  f"{r['p99_ms']:>8.2f} {r['recall_at_10']:>10.3f}", flush=True)


if __name__ == "__main__":
    main()
