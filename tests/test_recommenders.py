"""The recommenders and the harness on a small hand-made dataset, where the answers are known."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from functions.evaluation.dataset import holdout_split, load_events
from functions.evaluation.harness import evaluate
from functions.recommenders.algorithms import (ContentRecommender, CooccurrenceRecommender, PopularRecommender,
                                               RepurchaseRecommender, VitrinaRecommender)
from functions.recommenders.als import ALSRecommender
from functions.recommenders.base import Catalog, Interaction, weighted_history
from tests.support import TOY_EVENTS

ITEMS = ["shirt-a", "shirt-b", "shirt-c", "shoe-a", "shoe-b", "hat-a"]
DAY = timedelta(days=1)
T0 = datetime(2024, 1, 10, tzinfo=timezone.utc)


def catalog() -> Catalog:
    # Shirts point one way, shoes another, the hat a third: content neighbours are obvious.
    base = {"shirt": [1, 0, 0], "shoe": [0, 1, 0], "hat": [0, 0, 1]}
    vectors = np.array([np.array(base[item.split("-")[0]]) + 0.01 * i for i, item in enumerate(ITEMS)],
                       dtype=np.float32)
    return Catalog(ITEMS, [item.split("-")[0] for item in ITEMS], {"fused": vectors, "text": vectors})


# The toy log plus one row of each kind the loader must skip.
EVENTS = TOY_EVENTS + """bad-row-without-fields
u6,unknown-item,purchase,2024-01-08,1
u7,shirt-b,teleport,2024-01-08,1
u8,shirt-b,purchase,not-a-date,1
"""


@pytest.fixture
def loaded(tmp_path: Path):
    (tmp_path / "events.csv").write_text(EVENTS)
    return load_events(tmp_path / "events.csv", set(ITEMS))


def test_bad_rows_are_counted_not_fatal(loaded) -> None:
    assert len(loaded.events) == 11
    assert loaded.skipped == {"missing field": 1, "item not in catalog": 1, "unknown event type": 1,
                              "bad timestamp": 1}


def test_holdout_split_takes_the_last_days(loaded) -> None:
    train, test = holdout_split(loaded.events, 1)
    assert len(test) == 3 and set(test.user_ids) == {"u1", "u9"}
    assert len(train) == 8


def test_weighted_history_prefers_strong_and_recent() -> None:
    weights = weighted_history([Interaction("a", "view", T0 - 14 * DAY), Interaction("b", "view", T0),
                                Interaction("c", "purchase", T0)])
    assert weights["a"] == pytest.approx(0.25) and weights["b"] == 1.0 and weights["c"] == 5.0


def test_each_recommender_on_the_toy_catalog(loaded) -> None:
    train, _ = holdout_split(loaded.events, 1)
    shirt_buyer = [Interaction("shirt-a", "purchase", T0)]
    popular = PopularRecommender().fit(catalog(), train)
    assert [item for item, _ in popular.recommend([], 2)] == ["shoe-b", "hat-a"]
    co = CooccurrenceRecommender().fit(catalog(), train)
    assert co.recommend(shirt_buyer, 1)[0][0] == "shoe-a"  # u1 and u2 bought both
    content = ContentRecommender("fused").fit(catalog(), train)
    assert {item for item, _ in content.recommend(shirt_buyer, 3)} == {"shirt-a", "shirt-b", "shirt-c"}
    assert content.recommend(shirt_buyer, 2, exclude={"shirt-a"})[0][0] in {"shirt-b", "shirt-c"}
    assert [i for i, _ in RepurchaseRecommender().fit(catalog(), train).recommend(shirt_buyer, 2)] == ["shirt-a", "shoe-b"]
    blend = VitrinaRecommender().fit(catalog(), train)
    top = [item for item, _ in blend.recommend(shirt_buyer, 4, exclude={"shirt-a"})]
    assert "shoe-a" in top and "shirt-b" in top and "shirt-a" not in top
    assert blend.similar_items("shoe-a", 1)[0][0] == "shoe-b"
    als = ALSRecommender(factors=4, iterations=5).fit(catalog(), train)
    assert len(als.recommend(shirt_buyer, 3)) == 3
    assert len(als.similar_items("shoe-a", 2)) == 2


def test_harness_scores_every_recommender_reproducibly(loaded) -> None:
    train, test = holdout_split(loaded.events, 1)
    recommenders = lambda: [PopularRecommender(), CooccurrenceRecommender(), ALSRecommender(factors=4, iterations=5)]
    first = evaluate(catalog(), train, test, recommenders(), k=2)
    again = evaluate(catalog(), train, test, recommenders(), k=2)
    assert first.overall == again.overall
    # shirt-c has no training events: the one cold-start item; u9 is the user who bought it.
    assert first.cold_items == {"shirt-c"}
    assert first.cold_start["popular"]["Users"] == 1
    # Popular predicts [shoe-b, hat-a] for both test users: u1 bought shoe-b (AP 1/1), u9 none.
    assert first.overall["popular"]["MAP"] == pytest.approx(0.5)
    assert first.overall["popular"]["Users"] == 2


def test_batched_recommendations_equal_one_by_one(loaded) -> None:
    train, _ = holdout_split(loaded.events, 1)
    histories = [[], [Interaction("shirt-a", "purchase", T0)],
                 [Interaction("shoe-a", "view", T0 - DAY), Interaction("hat-a", "cart", T0)]]
    for recommender in (ContentRecommender("fused"), VitrinaRecommender(), PopularRecommender()):
        recommender.fit(catalog(), train)
        one_by_one = [recommender.recommend(history, 4) for history in histories]
        assert [[i for i, _ in r] for r in recommender.recommend_many(histories, 4)] == \
            [[i for i, _ in r] for r in one_by_one]
