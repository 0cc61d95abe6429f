"""The peer library in the same harness: implicit's ALS (Hu, Koren, Volinsky 2008)."""
from __future__ import annotations

from typing import Collection, Sequence

import numpy as np

from functions.recommenders.base import EVENT_WEIGHTS, Catalog, EventLog, Interaction, Scored, weighted_history
from functions.recommenders.memory import MemorySignals


class ALSRecommender:
    """Matrix factorisation on the user × item matrix; new histories are folded in at query time."""

    name = "implicit-als"

    def __init__(self, factors: int = 64, iterations: int = 15, regularization: float = 0.05,
                 alpha: float = 20.0, seed: int = 0) -> None:
        self.params = {"factors": factors, "iterations": iterations, "regularization": regularization,
                       "alpha": alpha, "random_state": seed}

    def fit(self, catalog: Catalog, events: EventLog) -> "ALSRecommender":
        from implicit.cpu.als import AlternatingLeastSquares
        from scipy import sparse
        from threadpoolctl import threadpool_limits

        self.signals = MemorySignals(catalog, events)
        self.ids, self.index = self.signals.ids, self.signals.index
        known = np.array([item in self.index for item in events.item_ids], dtype=bool)
        users, rows = np.unique(events.user_ids[known], return_inverse=True)
        columns = np.array([self.index[item] for item in events.item_ids[known]], dtype=np.int64)
        weights = np.array([EVENT_WEIGHTS.get(t, 1.0) for t in events.types[known]], dtype=np.float32)
        self._sparse = sparse
        user_items = sparse.csr_matrix((weights, (rows, columns)), shape=(len(users), len(self.ids)))
        # implicit parallelises itself; a threaded BLAS underneath only fights it.
        with threadpool_limits(1, "blas"):
            self.model = AlternatingLeastSquares(**self.params)
            self.model.fit(user_items, show_progress=False)
        return self

    def _indices(self, items: Collection[str]) -> np.ndarray:
        return np.array([self.index[item] for item in items if item in self.index], dtype=np.int64)

    def recommend(self, history: Sequence[Interaction], k: int, exclude: Collection[str] = ()) -> list[Scored]:
        seeds = {item: w for item, w in weighted_history(history).items() if item in self.index}
        if not seeds:
            return self.signals.popular(k, exclude)
        columns = self._indices(seeds)
        row = self._sparse.csr_matrix((np.array(list(seeds.values()), dtype=np.float32),
                                       (np.zeros(len(columns), dtype=np.int64), columns)), shape=(1, len(self.ids)))
        filtered = self._indices(exclude)
        ids, scores = self.model.recommend(0, row, N=k, recalculate_user=True, filter_already_liked_items=False,
                                           filter_items=filtered if len(filtered) else None)
        return [(str(self.ids[i]), float(s)) for i, s in zip(ids, scores)]

    def similar_items(self, item_id: str, k: int) -> list[Scored]:
        if item_id not in self.index:
            return []
        ids, scores = self.model.similar_items(self.index[item_id], N=k + 1)
        return [(str(self.ids[i]), float(s)) for i, s in zip(ids, scores) if i != self.index[item_id]][:k]
