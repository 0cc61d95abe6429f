"""Triplet mining on a hand-made case: who bought what, when, and which negatives follow."""
from __future__ import annotations

import numpy as np

from training_job.fusion.triplets import co_bought_pairs, mine_triplets

# Items 0-3 are dresses, 4-6 shoes, 7 has no category.
CATEGORIES = np.array(["dress", "dress", "dress", "dress", "shoes", "shoes", "shoes", ""])
EVENTS = [  # user, item, event, date
    ("ann", 0, "purchase", "2020-01-01"),
    ("ann", 4, "purchase", "2020-01-01"),   # same basket as item 0
    ("ann", 1, "cart", "2020-01-10"),        # cart counts, 9 days later: inside the 14-day window
    ("ann", 5, "purchase", "2020-03-01"),    # months later: outside the window
    ("bob", 2, "view", "2020-01-01"),        # a view is not buying
    ("bob", 6, "purchase", "2020-01-01"),
    ("bob", 6, "purchase", "2020-01-02"),    # the same item twice is no pair
    ("cid", 7, "purchase", "2020-02-01"),
    ("cid", 4, "purchase", "2020-02-01"),
]


def arrays() -> tuple[np.ndarray, ...]:
    users, items, types, dates = zip(*EVENTS)
    return (np.array(users, dtype=object), np.array(items), np.array(types, dtype=object),
            np.array(dates, dtype="datetime64[s]"))


def test_pairs_are_same_customer_buying_within_the_window() -> None:
    assert co_bought_pairs(*arrays(), window_days=14) == {(0, 4), (0, 1), (1, 4), (4, 7)}


def test_same_basket_only_with_a_zero_day_window() -> None:
    assert co_bought_pairs(*arrays(), window_days=0) == {(0, 4), (4, 7)}


def test_triplets_have_valid_negatives_and_are_deterministic() -> None:
    first = mine_triplets(*arrays(), CATEGORIES, window_days=14, hard_fraction=1.0, seed=7)
    again = mine_triplets(*arrays(), CATEGORIES, window_days=14, hard_fraction=1.0, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(vars(first).values(), vars(again).values()))
    pairs = co_bought_pairs(*arrays(), window_days=14)
    assert {(min(a, p), max(a, p)) for a, p in zip(first.anchor, first.positive)} == pairs
    for anchor, negative, hard in zip(first.anchor, first.negative, first.hard):
        assert negative != anchor and (min(anchor, negative), max(anchor, negative)) not in pairs
        if hard:
            assert CATEGORIES[negative] == CATEGORIES[anchor] != ""
    # Item 7 has no category: its triplet falls back to a random negative.
    assert not any(hard for anchor, hard in zip(first.anchor, first.hard) if anchor == 7)
    # A dress anchor's hard negative is a dress never co-bought with it: 2 or 3 for anchor 0.
    assert {int(n) for a, n, h in zip(first.anchor, first.negative, first.hard) if a == 0 and h} <= {2, 3}


def test_max_triplets_caps_the_sample() -> None:
    capped = mine_triplets(*arrays(), CATEGORIES, max_triplets=2, seed=0)
    assert len(capped) == 2
