"""Every metric against small cases computed by hand."""
from __future__ import annotations

import math

import pytest

from functions.evaluation.metrics import average_precision, hit_rate, ndcg, recall, score


def test_average_precision_h_and_m_definition() -> None:
    # Hits at ranks 1 and 3 of 3 actual items, K=12: (1/1 + 2/3) / min(3, 12).
    assert average_precision({"a", "b", "c"}, ["a", "x", "b", "y"], 12) == pytest.approx((1 + 2 / 3) / 3)
    # More actual items than K: divide by K.
    assert average_precision(set("abcdef"), ["a", "b"], 2) == pytest.approx(1.0)
    # A repeated prediction counts once.
    assert average_precision({"a"}, ["a", "a"], 2) == pytest.approx(1.0)
    assert average_precision({"a"}, ["x", "y"], 2) == 0.0
    assert average_precision(set(), ["a"], 2) == 0.0


def test_recall_ndcg_hit_rate() -> None:
    actual, predicted = {"a", "b"}, ["x", "a", "y", "b"]
    assert recall(actual, predicted, 2) == 0.5
    assert recall(actual, predicted, 4) == 1.0
    assert ndcg(actual, predicted, 4) == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    assert ndcg({"a"}, ["a"], 1) == 1.0
    assert hit_rate(actual, predicted, 1) == 0.0
    assert hit_rate(actual, predicted, 2) == 1.0


def test_score_averages_users_and_measures_coverage() -> None:
    truth = {"u1": {"a"}, "u2": {"b"}, "u3": set()}
    predictions = {"u1": ["a", "c"], "u2": ["c", "d"]}
    result = score(truth, predictions, 2, catalog_size=10)
    assert result["MAP"] == pytest.approx(0.5)
    assert result["HitRate"] == pytest.approx(0.5)
    assert result["Coverage"] == pytest.approx(3 / 10)
    assert result["Users"] == 2
