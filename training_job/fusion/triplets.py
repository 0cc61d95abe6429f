"""Triplet mining from the shop's events: (anchor, positive, negative) item indices.

Positives say "customers take these together": two different items bought (``purchase``; ``cart``
counts too — it is intent to buy) by the same customer within ``window_days`` of each other. The
same basket (same customer, same day) is the closest case of that window and is always included.

Negatives are of two kinds. Random ones teach the coarse layout of the space; hard ones — same
category as the anchor, yet never co-bought with it by anyone in the data — teach what the category
alone does not tell. Where no hard candidate exists the negative falls back to a random one.

numpy only (the tests run it without torch); deterministic for a given seed.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

BUYING_EVENTS = ("purchase", "cart")
# Draws per negative before a sampler gives up on a candidate pool (hard → random fallback).
MAX_DRAWS = 20


@dataclass(frozen=True)
class Triplets:
    """Row-aligned item indices (into the catalog) and whether each negative is a hard one."""

    anchor: np.ndarray
    positive: np.ndarray
    negative: np.ndarray
    hard: np.ndarray

    def __len__(self) -> int:
        return len(self.anchor)


def co_bought_pairs(user_ids: np.ndarray, items: np.ndarray, types: np.ndarray, ts: np.ndarray,
                    window_days: int) -> set[tuple[int, int]]:
    """Unordered pairs (low, high) of item indices bought by one customer within the window.

    ``items`` are catalog indices (negative: not in the catalog, skipped); ``ts`` datetime64.
    """
    buying = np.isin(types, BUYING_EVENTS) & (items >= 0)
    days = ts.astype("datetime64[D]").astype(np.int64)
    by_user: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for user, item, day in zip(user_ids[buying], items[buying], days[buying]):
        by_user[user].append((int(day), int(item)))
    pairs: set[tuple[int, int]] = set()
    for events in by_user.values():
        events.sort()
        for i, (day, item) in enumerate(events):
            for later_day, other in events[i + 1:]:
                if later_day - day > window_days:
                    break
                if other != item:
                    pairs.add((min(item, other), max(item, other)))
    return pairs


def mine_triplets(user_ids: np.ndarray, items: np.ndarray, types: np.ndarray, ts: np.ndarray,
                  categories: np.ndarray, *, window_days: int = 14, hard_fraction: float = 0.5,
                  max_triplets: int | None = None, seed: int = 0) -> Triplets:
    """One triplet per co-bought pair (randomly oriented), up to ``max_triplets`` of them.

    ``categories`` aligns with the catalog ("" for none: such anchors only get random negatives).
    """
    rng = np.random.default_rng(seed)
    pairs = co_bought_pairs(user_ids, items, types, ts, window_days)
    ordered = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    if max_triplets is not None and len(ordered) > max_triplets:
        ordered = ordered[np.sort(rng.choice(len(ordered), max_triplets, replace=False))]
    flip = rng.random(len(ordered)) < 0.5
    anchor = np.where(flip, ordered[:, 1], ordered[:, 0])
    positive = np.where(flip, ordered[:, 0], ordered[:, 1])

    by_category: dict[str, np.ndarray] = {}
    for category in np.unique(categories):
        if category:
            by_category[category] = np.flatnonzero(categories == category)
    negative = np.empty(len(anchor), dtype=np.int64)
    hard = np.zeros(len(anchor), dtype=bool)
    wants_hard = rng.random(len(anchor)) < hard_fraction
    for row, item in enumerate(anchor):
        pool = by_category.get(categories[item]) if wants_hard[row] else None
        choice = _draw(rng, pool, int(item), pairs) if pool is not None else None
        hard[row] = choice is not None
        negative[row] = choice if choice is not None else _draw_random(rng, len(categories), int(item), pairs)
    return Triplets(anchor, positive, negative, hard)


def _draw(rng: np.random.Generator, pool: np.ndarray | int, anchor: int,
          pairs: set[tuple[int, int]]) -> int | None:
    """A member of ``pool`` (an int: any index below it) that is not the anchor and was never
    co-bought with it, if one turns up."""
    for _ in range(MAX_DRAWS):
        candidate = int(rng.integers(pool)) if isinstance(pool, int) else int(pool[rng.integers(len(pool))])
        if candidate != anchor and (min(anchor, candidate), max(anchor, candidate)) not in pairs:
            return candidate
    return None


def _draw_random(rng: np.random.Generator, n_items: int, anchor: int, pairs: set[tuple[int, int]]) -> int:
    """Any catalog item but the anchor, preferably one never co-bought with it."""
    choice = _draw(rng, n_items, anchor, pairs)
    if choice is not None:
        return choice
    return (anchor + 1 + int(rng.integers(n_items - 1))) % n_items
