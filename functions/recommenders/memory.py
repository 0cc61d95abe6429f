"""Item signals fitted in memory from a catalog and an event log (evaluation, offline use)."""
from __future__ import annotations

from functools import cached_property
from typing import Collection, Mapping, Sequence

import numpy as np
from scipy import sparse

from functions.recommenders.base import EVENT_WEIGHTS, Catalog, EventLog, Scored

# "Popular" means popular lately: the last week of the log.
POPULAR_DAYS = 7


def top_k(ids: np.ndarray, scores: np.ndarray, k: int, exclude: Collection[str],
          index: Mapping[str, int], positive_only: bool = False) -> list[Scored]:
    """The k best-scored ids, leaving out ``exclude`` (and scores ≤ 0 when ``positive_only``)."""
    scores = scores.astype(np.float64, copy=True)
    for item in exclude:
        if item in index:
            scores[index[item]] = -np.inf
    if positive_only:
        scores[scores <= 0] = -np.inf
    k = min(k, len(scores))
    if k <= 0:
        return []
    candidates = np.argpartition(-scores, k - 1)[:k]
    ranked = candidates[np.argsort(-scores[candidates], kind="stable")]
    return [(str(ids[i]), float(scores[i])) for i in ranked if np.isfinite(scores[i])]


class MemorySignals:
    """Popularity, co-occurrence and vector neighbours over one catalog, fitted on one event log."""

    def __init__(self, catalog: Catalog, events: EventLog, popular_days: int = POPULAR_DAYS) -> None:
        self.ids = np.asarray(catalog.item_ids, dtype=object)
        self.index = {item: i for i, item in enumerate(catalog.item_ids)}
        known = np.array([item in self.index for item in events.item_ids], dtype=bool)
        items = np.array([self.index[item] for item in events.item_ids[known]], dtype=np.int64)
        weights = np.array([EVENT_WEIGHTS.get(t, 1.0) for t in events.types[known]])
        users, user_rows = np.unique(events.user_ids[known], return_inverse=True)
        n = len(self.ids)

        self.popularity = np.zeros(n)
        if len(items):
            recent = events.ts[known] >= events.ts[known].max() - np.timedelta64(popular_days, "D")
            np.add.at(self.popularity, items[recent], weights[recent])
        # Users × items, one per pair: co-occurrence counts customers, not repeat purchases.
        user_items = sparse.csr_matrix((np.ones(len(items)), (user_rows, items)), shape=(len(users), n))
        user_items.data[:] = 1.0
        self.user_items = user_items
        self.vectors = {space: self._normalised(matrix) for space, matrix in catalog.vectors.items()}

    @cached_property
    def co_counts(self) -> sparse.csr_matrix:
        """Items × items: customers who took both. Built on first use — only co-occurrence needs
        it, and the item × item product is the costliest part of fitting."""
        counts = (self.user_items.T @ self.user_items).tocsr()
        counts.setdiag(0)
        counts.eliminate_zeros()
        return counts

    @staticmethod
    def _normalised(matrix: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)

    def _seed_vector(self, seeds: Mapping[str, float]) -> sparse.csr_matrix:
        rows = [(self.index[item], weight) for item, weight in seeds.items() if item in self.index]
        columns = [i for i, _ in rows]
        return sparse.csr_matrix(([w for _, w in rows], ([0] * len(rows), columns)), shape=(1, len(self.ids)))

    def popular(self, k: int, exclude: Collection[str]) -> list[Scored]:
        return top_k(self.ids, self.popularity, k, exclude, self.index, positive_only=True)

    def co_occurring(self, seeds: Mapping[str, float], k: int, exclude: Collection[str]) -> list[Scored]:
        """Σ over seeds of seed weight × number of customers who had both; never the seeds."""
        scores = np.asarray((self._seed_vector(seeds) @ self.co_counts).todense()).ravel()
        return top_k(self.ids, scores, k, set(exclude) | set(seeds), self.index, positive_only=True)

    def nearest(self, seeds: Mapping[str, float], k: int, exclude: Collection[str], space: str) -> list[Scored]:
        return self.nearest_many([seeds], k, [exclude], space)[0]

    def nearest_many(self, seeds: Sequence[Mapping[str, float]], k: int, excludes: Sequence[Collection[str]],
                     space: str, chunk: int = 512) -> list[list[Scored]]:
        """``nearest`` for many profiles at once: one matrix product per chunk instead of one
        pass over the whole catalog per profile (evaluation scores thousands of users)."""
        matrix = self.vectors[space]
        results: list[list[Scored]] = []
        for start in range(0, len(seeds), chunk):
            part = seeds[start:start + chunk]
            rows = sparse.vstack([self._seed_vector(s) for s in part]).tocsr()
            profiles = np.asarray(rows @ matrix)
            norms = np.linalg.norm(profiles, axis=1, keepdims=True)
            scores = (profiles / np.where(norms == 0, 1, norms)) @ matrix.T
            for row, norm in enumerate(norms[:, 0]):
                exclude = excludes[start + row]
                results.append(top_k(self.ids, scores[row], k, exclude, self.index) if norm > 0 else [])
        return results
