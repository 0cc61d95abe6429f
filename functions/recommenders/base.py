"""The shared types: interactions, the catalog and event log a recommender fits on, its interface."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Collection, Mapping, Protocol, Sequence

import numpy as np

EVENT_TYPES = ("view", "cart", "purchase")
# How strongly each kind of event says "this customer wants this kind of item".
EVENT_WEIGHTS = {"view": 1.0, "cart": 3.0, "purchase": 5.0}
# An interaction a week old counts half as much as one today.
HALF_LIFE_DAYS = 7.0

Scored = tuple[str, float]


@dataclass(frozen=True)
class Interaction:
    item_id: str
    type: str
    ts: datetime


@dataclass
class Catalog:
    """Items with their vectors: ``vectors[space]`` rows align with ``item_ids`` (zero row: none)."""

    item_ids: list[str]
    categories: list[str | None]
    vectors: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class EventLog:
    """Training interactions as parallel arrays (``ts`` as numpy datetime64)."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    types: np.ndarray
    ts: np.ndarray

    def __len__(self) -> int:
        return len(self.item_ids)


def weighted_history(history: Sequence[Interaction]) -> dict[str, float]:
    """Item → weight: event strength, decayed by age relative to the latest interaction."""
    if not history:
        return {}
    latest = max(event.ts for event in history)
    weights: dict[str, float] = {}
    for event in history:
        age_days = (latest - event.ts).total_seconds() / 86400
        weight = EVENT_WEIGHTS.get(event.type, 1.0) * 0.5 ** (age_days / HALF_LIFE_DAYS)
        weights[event.item_id] = weights.get(event.item_id, 0.0) + weight
    return weights


class ItemSignals(Protocol):
    """What recommenders rank from; every method leaves ``exclude`` out and returns best first."""

    def popular(self, k: int, exclude: Collection[str]) -> list[Scored]:
        ...

    def co_occurring(self, seeds: Mapping[str, float], k: int, exclude: Collection[str]) -> list[Scored]:
        """Items customers of the seeds also took, the seeds themselves left out."""

    def nearest(self, seeds: Mapping[str, float], k: int, exclude: Collection[str], space: str) -> list[Scored]:
        ...


class Recommender(Protocol):
    """Every algorithm, baseline or Vitrina's own, has this face."""

    name: str

    def fit(self, catalog: Catalog, events: EventLog) -> "Recommender":
        ...

    def recommend(self, history: Sequence[Interaction], k: int, exclude: Collection[str] = ()) -> list[Scored]:
        ...

    def similar_items(self, item_id: str, k: int) -> list[Scored]:
        ...
