"""Ranking metrics for one user's predictions against the items they really took next.

MAP@K follows the H&M Personalized Fashion Recommendations competition: precision at each hit,
summed over the top K, divided by min(|actual|, K).
"""
from __future__ import annotations

import math
from typing import Sequence


def average_precision(actual: set[str], predicted: Sequence[str], k: int) -> float:
    if not actual:
        return 0.0
    hits, total = 0, 0.0
    for rank, item in enumerate(predicted[:k], start=1):
        if item in actual and item not in predicted[:rank - 1]:
            hits += 1
            total += hits / rank
    return total / min(len(actual), k)


def recall(actual: set[str], predicted: Sequence[str], k: int) -> float:
    return len(actual & set(predicted[:k])) / len(actual) if actual else 0.0


def ndcg(actual: set[str], predicted: Sequence[str], k: int) -> float:
    """Binary relevance; the ideal ranking puts min(|actual|, K) hits first."""
    if not actual:
        return 0.0
    gain = sum(1 / math.log2(rank + 1) for rank, item in enumerate(predicted[:k], start=1) if item in actual)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(actual), k) + 1))
    return gain / ideal


def hit_rate(actual: set[str], predicted: Sequence[str], k: int) -> float:
    return 1.0 if actual & set(predicted[:k]) else 0.0


PER_USER = {"MAP": average_precision, "Recall": recall, "NDCG": ndcg, "HitRate": hit_rate}


def score(truth: dict[str, set[str]], predictions: dict[str, list[str]], k: int,
          catalog_size: int) -> dict[str, float]:
    """Mean of each per-user metric over the users in ``truth``, plus catalog coverage and count."""
    users = [user for user, actual in truth.items() if actual]
    result = {name: (sum(metric(truth[u], predictions.get(u, []), k) for u in users) / len(users) if users else 0.0)
              for name, metric in PER_USER.items()}
    recommended = {item for u in users for item in predictions.get(u, [])[:k]}
    result["Coverage"] = len(recommended) / catalog_size if catalog_size else 0.0
    result["Users"] = float(len(users))
    return result
