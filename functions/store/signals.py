"""Item signals read live from PostgreSQL, under the request's business filters.

The same ranking code runs here as in evaluation (``recommenders.algorithms``); these queries
replace the in-memory matrices, so an event stored a moment ago already counts.
"""
from __future__ import annotations

from typing import Collection, Mapping, Sequence

import numpy as np
import psycopg
from psycopg import sql

from functions.recommenders.base import EVENT_WEIGHTS, Scored
from functions.store import vectors
from functions.store.filters import ProductFilter
from functions.store.vectors import VectorSpace

_WEIGHT = sql.SQL("CASE e.type {} ELSE 1 END").format(
    sql.SQL(" ").join(sql.SQL("WHEN {} THEN {}").format(sql.Literal(t), sql.Literal(w))
                      for t, w in EVENT_WEIGHTS.items()))
# A guest session and a customer never share an id space.
_ACTOR = sql.SQL("coalesce('u:' || e.user_id, 's:' || e.session_id)")
POPULAR_DAYS = 7


class PostgresSignals:
    def __init__(self, conn: psycopg.Connection, space: VectorSpace, product_filter: ProductFilter = ProductFilter(),
                 *, popular_days: int = POPULAR_DAYS, co_types: Sequence[str] = tuple(EVENT_WEIGHTS)) -> None:
        self.conn = conn
        self.space = space
        self.filter = product_filter
        self.popular_days = popular_days
        self.co_types = list(co_types)

    def _where(self, exclude: Collection[str]) -> tuple[sql.Composable, dict]:
        return self.filter.with_exclude(*exclude).where("p")

    def popular(self, k: int, exclude: Collection[str]) -> list[Scored]:
        where, params = self._where(exclude)
        params.update(days=self.popular_days, k=k)
        query = sql.SQL(
            """
            SELECT e.item_id, sum({weight})::float8 AS score
            FROM events e JOIN products p ON p.id = e.item_id
            WHERE e.ts >= now() - make_interval(days => %(days)s) AND {where}
            GROUP BY e.item_id ORDER BY score DESC, e.item_id LIMIT %(k)s
            """).format(weight=_WEIGHT, where=where)
        return [(item, score) for item, score in self.conn.execute(query, params).fetchall()]

    def co_occurring(self, seeds: Mapping[str, float], k: int, exclude: Collection[str]) -> list[Scored]:
        """Σ over seeds of seed weight × number of customers who had both the seed and the item;
        the seeds themselves are never returned."""
        if not seeds:
            return []
        where, params = self._where(exclude)
        params.update(ids=list(seeds), weights=[float(w) for w in seeds.values()], types=self.co_types, k=k)
        query = sql.SQL(
            """
            WITH seeds AS (SELECT * FROM unnest(%(ids)s::text[], %(weights)s::float8[]) AS s(item_id, w)),
            seed_actors AS (
                SELECT DISTINCT {actor} AS actor, e.item_id FROM events e
                WHERE e.item_id = ANY(%(ids)s) AND e.type = ANY(%(types)s)),
            actor_weight AS (
                SELECT a.actor, sum(s.w) AS w FROM seed_actors a JOIN seeds s USING (item_id) GROUP BY a.actor),
            actor_items AS (
                SELECT DISTINCT {actor} AS actor, e.item_id FROM events e
                WHERE e.type = ANY(%(types)s) AND {actor} IN (SELECT actor FROM actor_weight))
            SELECT ai.item_id, sum(aw.w)::float8 AS score
            FROM actor_items ai JOIN actor_weight aw USING (actor) JOIN products p ON p.id = ai.item_id
            WHERE {where} AND ai.item_id <> ALL(%(ids)s)
            GROUP BY ai.item_id ORDER BY score DESC, ai.item_id LIMIT %(k)s
            """).format(actor=_ACTOR, where=where)
        return [(item, score) for item, score in self.conn.execute(query, params).fetchall()]

    def nearest(self, seeds: Mapping[str, float], k: int, exclude: Collection[str], space: str) -> list[Scored]:
        if space != "fused":
            raise ValueError("only the fused space is indexed in the store")
        stored = vectors.fused_vectors(self.conn, self.space, list(seeds))
        if not stored:
            return []
        profile = sum(seeds[item] * vector for item, vector in stored.items())
        norm = float(np.linalg.norm(profile))
        if norm == 0:
            return []
        rows = vectors.nearest(self.conn, self.space, profile / norm, k, self.filter.with_exclude(*exclude))
        return [(row["id"], float(row["score"])) for row in rows]
