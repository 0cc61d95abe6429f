"""Fit every recommender on the training events and score its predictions for each test user."""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Sequence

import numpy as np

from functions.evaluation.metrics import score
from functions.recommenders.base import Catalog, EventLog, Interaction, Recommender


@dataclass
class EvaluationResult:
    k: int
    overall: dict[str, dict[str, float]] = field(default_factory=dict)
    cold_start: dict[str, dict[str, float]] = field(default_factory=dict)
    predictions: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    fit_seconds: dict[str, float] = field(default_factory=dict)
    histories: dict[str, list[Interaction]] = field(default_factory=dict)
    truth: dict[str, set[str]] = field(default_factory=dict)
    cold_items: set[str] = field(default_factory=set)


def histories_by_user(log: EventLog) -> dict[str, list[Interaction]]:
    histories: dict[str, list[Interaction]] = defaultdict(list)
    order = np.argsort(log.ts, kind="stable")
    for i in order:
        ts = log.ts[i].astype(datetime).replace(tzinfo=timezone.utc)
        histories[log.user_ids[i]].append(Interaction(log.item_ids[i], log.types[i], ts))
    return histories


def evaluate(catalog: Catalog, train: EventLog, test: EventLog, recommenders: Sequence[Recommender],
             k: int = 12, progress: Callable[[str], None] | None = None) -> EvaluationResult:
    """Predict k items for every test user from their training history alone."""
    result = EvaluationResult(k=k)
    train_histories = histories_by_user(train)
    for user, item in zip(test.user_ids, test.item_ids):
        result.truth.setdefault(user, set()).add(item)
    trained_items = set(train.item_ids)
    result.cold_items = {item for items in result.truth.values() for item in items} - trained_items
    cold_truth = {user: items & result.cold_items for user, items in result.truth.items()}
    result.histories = {user: train_histories.get(user, []) for user in result.truth}

    for recommender in recommenders:
        started = time.perf_counter()
        recommender.fit(catalog, train)
        result.fit_seconds[recommender.name] = time.perf_counter() - started
        users = list(result.histories)
        ranked = (recommender.recommend_many([result.histories[u] for u in users], k)
                  if hasattr(recommender, "recommend_many")
                  else [recommender.recommend(result.histories[u], k) for u in users])
        predictions = {user: [item for item, _ in items] for user, items in zip(users, ranked)}
        result.predictions[recommender.name] = predictions
        result.overall[recommender.name] = score(result.truth, predictions, k, len(catalog.item_ids))
        result.cold_start[recommender.name] = score(cold_truth, predictions, k, len(catalog.item_ids))
        if progress:
            progress(recommender.name)
    return result
