"""The HTML evaluation report on a toy dataset whose hits are known, with real photos."""
from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from functions.evaluation.dataset import holdout_split, load_events
from functions.evaluation.harness import EvaluationResult, evaluate
from functions.evaluation.metrics import score
from functions.evaluation.report import curves, sample_users, write_report
from functions.recommenders.algorithms import CooccurrenceRecommender, PopularRecommender
from functions.recommenders.base import Catalog
from tests.support import TOY_EVENTS, write_dataset

# u1 bought shirt-a and shoe-a before, then shoe-b on the last day: popular ranks shoe-b first,
# so it is a hit for u1. Nobody buys hat-a on the last day. u9 has no history and is never shown.
EVENTS = TOY_EVENTS
PRODUCTS = [
    {"id": "shirt-a", "title": "Oxford shirt", "category": "Shirts", "image": "images/10001.jpg"},
    {"id": "shirt-b", "title": "Linen shirt", "category": "Shirts", "image": "images/10003.jpg"},
    {"id": "shirt-c", "title": "Flannel shirt", "category": "Shirts"},
    {"id": "shoe-a", "title": "Runner <b>& co", "category": "Shoes", "image": "images/10004.jpg"},
    {"id": "shoe-b", "title": "Loafer", "category": "Shoes", "image": "images/10016.jpg"},
    {"id": "hat-a", "title": "Sun hat", "category": "Hats", "image": "images/missing.jpg"},
]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = write_dataset(tmp_path / "toy", PRODUCTS)
    (folder / "events.csv").write_text(EVENTS)
    return folder


@pytest.fixture
def result(dataset: Path) -> EvaluationResult:
    ids = [p["id"] for p in PRODUCTS]
    train, test = holdout_split(load_events(dataset / "events.csv", set(ids)).events, 1)
    catalog = Catalog(ids, [p["category"] for p in PRODUCTS], {})
    return evaluate(catalog, train, test, [PopularRecommender(), CooccurrenceRecommender()], k=3)


def figures(html: str, item: str) -> list[str]:
    return [f for f in re.findall(r"<figure.*?</figure>", html) if f"<figcaption>{item}</figcaption>" in f]


def test_report_shows_metrics_charts_and_photos(dataset: Path, result: EvaluationResult, tmp_path: Path) -> None:
    assert (dataset / "images" / "10004.jpg").is_file(), "the toy dataset needs a real photo"
    path = tmp_path / "out" / "report.html"
    write_report(path, result, dataset)
    html = path.read_text(encoding="utf-8")
    assert "popular" in html and "co-occurrence" in html
    assert html.count("<svg") == 4
    assert "toy" in html and "1 cold-start items" in html
    # shoe-b is u1's hit for popular (ranked first) and marked; hat-a is never bought, never a hit.
    assert any('class="item hit"' in f and "✓" in f for f in figures(html, "shoe-b"))
    assert figures(html, "hat-a") and not any("hit" in f for f in figures(html, "hat-a"))
    # Real photos become base64 JPEGs no higher than 96 px; the missing photo a grey titled box.
    encoded = re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", html)
    assert encoded
    assert Image.open(io.BytesIO(base64.b64decode(encoded[0]))).height <= 96
    assert any('class="photo none">Sun hat<' in f for f in figures(html, "hat-a"))
    assert "Runner &lt;b&gt;&amp; co" in html and "Runner <b>" not in html
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_curves_end_at_the_scores_at_k(result: EvaluationResult) -> None:
    for metric, series in curves(result).items():
        for name, values in series.items():
            assert len(values) == result.k
            assert values[-1] == pytest.approx(score(result.truth, result.predictions[name], result.k, 6)[metric])
    assert curves(result)["HitRate"]["popular"] == [0.5, 0.5, 0.5]


def test_sample_is_seeded_and_needs_a_history(result: EvaluationResult) -> None:
    assert sample_users(result, 12, seed=0) == sample_users(result, 12, seed=0) == ["u1"]
