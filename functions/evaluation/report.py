"""One self-contained HTML page that shows an evaluation, so numbers can be checked against photos.

The page has no external assets and no JavaScript: it can be mailed, archived or opened offline.
It holds the metrics tables, a small SVG chart per metric over K = 1..k, and a seeded sample of
test users with their history, what they bought and each recommender's top-k as thumbnails.
"""
from __future__ import annotations

import base64
import io
import json
import math
import random
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Iterable

from PIL import Image

from functions.evaluation.harness import EvaluationResult
from functions.evaluation.metrics import PER_USER

TABLE_COLUMNS = ("MAP", "Recall", "NDCG", "HitRate", "Coverage")
HISTORY_SHOWN = 8
# Thumbnails fit this box: H&M's 2:3 photos become 64x96, square ones 80x80.
THUMB_SIZE = (80, 96)
JPEG_QUALITY = 70
# Tableau 10: distinct hues that stay apart for up to ten recommenders.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{margin:0 0 4px}h2{margin:28px 0 8px}.facts{color:#555;margin:0 0 16px}
table{border-collapse:collapse;background:#fff;margin:0 24px 12px 0;display:inline-table;vertical-align:top}
th,td{border:1px solid #ddd;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}
caption{text-align:left;font-weight:600;padding:4px 0}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{background:#fff;border:1px solid #ddd}
.user{background:#fff;border:1px solid #ddd;padding:8px 12px;margin:0 0 14px}.user h3{margin:0 0 6px;font-size:15px}
.row{display:flex;align-items:flex-start;gap:6px;margin:2px 0}
.label{width:170px;flex:none;font-weight:600;padding-top:36px;overflow-wrap:anywhere}
.label small{display:block;font-weight:400;color:#666}
.items{display:flex;flex-wrap:wrap;gap:6px}
figure{margin:0;width:86px;position:relative}
.photo{width:80px;height:96px;border:3px solid transparent;border-radius:3px;
background:#fff center/contain no-repeat}
.none{background:#ddd;color:#555;font-size:10px;overflow:hidden;padding:2px;box-sizing:border-box}
.hit .photo{border-color:#2e9e44}
.check{position:absolute;top:2px;right:4px;background:#2e9e44;color:#fff;border-radius:50%;
width:20px;height:20px;text-align:center;font:bold 14px/20px sans-serif}
figcaption{font-size:10px;color:#555;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.empty{color:#888;padding-top:36px}
"""


@dataclass(frozen=True)
class _Thumb:
    """How one product is drawn: a CSS class holding its photo, or none and a grey box instead."""

    tooltip: str
    caption: str
    css_class: str | None


def write_report(path: Path, result: EvaluationResult, dataset: Path, users: int = 12, seed: int = 0) -> None:
    """Write the evaluation as one HTML file; ``seed`` fixes which users are shown, so reruns compare."""
    sample = sample_users(result, users, seed)
    shown = _items_shown(result, sample)
    products = _load_products(dataset / "catalog.jsonl", shown)
    thumbs, photo_css = _thumbnails(dataset, shown, products)
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(result.predictions)}
    body = [_header(result, dataset), _metrics_tables(result), _charts(result, colours),
            _users_section(result, sample, thumbs)]
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>Vitrina evaluation: {escape(dataset.resolve().name)}</title>"
            f"<style>{CSS}{photo_css}</style></head><body>{''.join(body)}</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")


# ---- the sample of users -------------------------------------------------------------------------

def sample_users(result: EvaluationResult, count: int, seed: int) -> list[str]:
    """Users with a history, mostly ones some recommender got right (those show what works), plus
    about a quarter with no hit at all (those show what fails)."""
    candidates = sorted(user for user, history in result.histories.items() if history and result.truth.get(user))
    hit = [user for user in candidates if any(set(p.get(user, ())) & result.truth[user]
                                              for p in result.predictions.values())]
    missed = sorted(set(candidates) - set(hit))
    rng = random.Random(seed)
    n_missed = min(len(missed), max(count - len(hit), count // 4))
    n_hit = min(len(hit), count - n_missed)
    return rng.sample(hit, n_hit) + rng.sample(missed, n_missed)


def _shown_history(result: EvaluationResult, user: str) -> list[str]:
    """The latest interactions, oldest first."""
    return [event.item_id for event in result.histories[user][-HISTORY_SHOWN:]]


def _items_shown(result: EvaluationResult, sample: list[str]) -> set[str]:
    shown: set[str] = set()
    for user in sample:
        shown.update(_shown_history(result, user), result.truth[user])
        for predictions in result.predictions.values():
            shown.update(predictions.get(user, ()))
    return shown


# ---- products and photos -------------------------------------------------------------------------

def _load_products(catalog: Path, ids: set[str]) -> dict[str, dict]:
    """Only the shown products: a real catalog has tens of thousands of lines."""
    products: dict[str, dict] = {}
    with open(catalog, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                product = json.loads(line)
                if str(product.get("id")) in ids:
                    products[str(product["id"])] = product
    return products


def _thumbnail(photo: Path) -> str | None:
    """A small base64 JPEG, or None when the file is missing or unreadable (the box goes grey)."""
    try:
        with Image.open(photo) as image:
            small = image.convert("RGB")
            small.thumbnail(THUMB_SIZE)
    except OSError:
        return None
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _thumbnails(dataset: Path, ids: Iterable[str], products: dict[str, dict]) -> tuple[dict[str, _Thumb], str]:
    """Each photo is embedded once, as a CSS class: popular items recur in every user's rows."""
    thumbs: dict[str, _Thumb] = {}
    rules: list[str] = []
    for item in sorted(ids):
        product = products.get(item, {})
        title = str(product.get("title") or item)
        tooltip = f"{title} — {product['category']}" if product.get("category") else title
        encoded = _thumbnail(dataset / product["image"]) if product.get("image") else None
        css_class = None
        if encoded:
            css_class = f"p{len(rules)}"
            rules.append(f'.{css_class}{{background-image:url("data:image/jpeg;base64,{encoded}")}}')
        thumbs[item] = _Thumb(tooltip, title, css_class)
    return thumbs, "\n".join(rules)


# ---- header and tables ----------------------------------------------------------------------------

def _header(result: EvaluationResult, dataset: Path) -> str:
    tested = sum(1 for items in result.truth.values() if items)
    return (f"<h1>Evaluation: {escape(dataset.resolve().name)}</h1>"
            f'<p class="facts">k = {result.k} · {tested} test users · '
            f"{len(result.cold_items)} cold-start items (bought in the test period, absent from training) · "
            f"{len(result.predictions)} recommenders</p>")


def _metrics_tables(result: EvaluationResult) -> str:
    tables = [_metrics_table("All test users", result.overall, result.k)]
    if result.cold_items:
        tables.append(_metrics_table("Cold-start items only", result.cold_start, result.k))
    return "<h2>Metrics</h2>" + "".join(tables)


def _metrics_table(title: str, rows: dict[str, dict[str, float]], k: int) -> str:
    """One row per recommender; the best value of each column is bold so the winner is obvious."""
    best = {column: max((metrics[column] for metrics in rows.values()), default=0.0) for column in TABLE_COLUMNS}
    head = "".join(f"<th>{c}@{k}</th>" if c != "Coverage" else f"<th>{c}</th>" for c in TABLE_COLUMNS)
    lines = []
    for name, metrics in rows.items():
        cells = "".join(f"<td><b>{metrics[c]:.4f}</b></td>" if metrics[c] == best[c] and best[c] > 0
                        else f"<td>{metrics[c]:.4f}</td>" for c in TABLE_COLUMNS)
        lines.append(f"<tr><td>{escape(name)}</td>{cells}<td>{metrics.get('Users', 0):.0f}</td></tr>")
    return (f"<table><caption>{escape(title)}</caption><tr><th>recommender</th>{head}<th>users</th></tr>"
            f"{''.join(lines)}</table>")


# ---- charts ---------------------------------------------------------------------------------------

def curves(result: EvaluationResult) -> dict[str, dict[str, list[float]]]:
    """Metric → recommender → mean metric@K for K = 1..k. Predictions are ranked lists of length k,
    so their prefixes are exactly what a run with a smaller k would have predicted."""
    users = [user for user, actual in result.truth.items() if actual]
    out: dict[str, dict[str, list[float]]] = {}
    for metric_name, metric in PER_USER.items():
        out[metric_name] = {}
        for name, predictions in result.predictions.items():
            out[metric_name][name] = [
                sum(metric(result.truth[u], predictions.get(u, []), cut) for u in users) / len(users) if users else 0.0
                for cut in range(1, result.k + 1)]
    return out


def _y_ticks(highest: float) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 × 10^n, at most six) from 0 to at least ``highest``."""
    highest = highest if highest > 0 else 1.0
    magnitude = 10.0 ** math.floor(math.log10(highest / 5))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= highest / 5)
    return [i * step for i in range(math.ceil(highest / step - 1e-9) + 1)]


@dataclass(frozen=True)
class _Frame:
    """The plot area of one chart and its mapping from (K, value) to pixels."""

    n: int
    y_ticks: list[float]
    left: int = 52
    top: int = 28
    width: int = 268
    height: int = 188

    def x(self, i: int) -> float:
        return self.left + (self.width * (i - 1) / (self.n - 1) if self.n > 1 else self.width / 2)

    def y(self, value: float) -> float:
        return self.top + self.height * (1 - value / self.y_ticks[-1])


def _axes_svg(frame: _Frame) -> list[str]:
    bottom, right = frame.top + frame.height, frame.left + frame.width
    parts = []
    for value in frame.y_ticks:
        parts.append(f'<line x1="{frame.left}" x2="{right}" y1="{frame.y(value):.1f}" y2="{frame.y(value):.1f}" '
                     f'stroke="#eee"/><text x="{frame.left - 5}" y="{frame.y(value) + 4:.1f}" '
                     f'text-anchor="end">{value:.3g}</text>')
    for i in range(1, frame.n + 1, max(1, round(frame.n / 12))):
        parts.append(f'<line x1="{frame.x(i):.1f}" x2="{frame.x(i):.1f}" y1="{bottom}" y2="{bottom + 4}" '
                     f'stroke="#333"/><text x="{frame.x(i):.1f}" y="{bottom + 16}" text-anchor="middle">{i}</text>')
    parts.append(f'<path d="M{frame.left},{frame.top}V{bottom}H{right}" fill="none" stroke="#333"/>'
                 f'<text x="{frame.left + frame.width / 2}" y="{bottom + 30}" text-anchor="middle">K</text>')
    return parts


def _series_svg(frame: _Frame, row: int, name: str, values: list[float], colour: str) -> list[str]:
    """One recommender's line with its points, and its entry in the legend to the right."""
    points = [(frame.x(i), frame.y(v)) for i, v in enumerate(values, start=1)]
    legend_x, legend_y = frame.left + frame.width + 12, frame.top + 4 + row * 16
    return [f'<polyline points="{" ".join(f"{px:.1f},{py:.1f}" for px, py in points)}" fill="none" '
            f'stroke="{colour}" stroke-width="2"/>',
            *(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.2" fill="{colour}"/>' for px, py in points),
            f'<rect x="{legend_x}" y="{legend_y}" width="12" height="3" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="{legend_y + 5}">{escape(name[:22])}</text>']


def _line_chart(title: str, series: dict[str, list[float]], colours: dict[str, str]) -> str:
    """An SVG chart of each series over K = 1..n: axes with ticks, a line per series, a legend."""
    frame = _Frame(n=max((len(v) for v in series.values()), default=1),
                   y_ticks=_y_ticks(max((v for values in series.values() for v in values), default=0.0)))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="480" height="{frame.top + frame.height + 36}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="{frame.left}" y="17" font-size="13" font-weight="bold">{escape(title)}@K</text>',
             *_axes_svg(frame)]
    for row, (name, values) in enumerate(series.items()):
        parts.extend(_series_svg(frame, row, name, values, colours[name]))
    parts.append("</svg>")
    return "".join(parts)


def _charts(result: EvaluationResult, colours: dict[str, str]) -> str:
    drawn = "".join(_line_chart(metric, series, colours) for metric, series in curves(result).items())
    return f'<h2>Metrics against K</h2><div class="charts">{drawn}</div>'


# ---- users ---------------------------------------------------------------------------------------

def _figure(item: str, thumbs: dict[str, _Thumb], hit: bool) -> str:
    thumb = thumbs[item]
    if thumb.css_class:
        photo = f'<div class="photo {thumb.css_class}" role="img" aria-label="{escape(thumb.caption)}"></div>'
    else:
        photo = f'<div class="photo none">{escape(thumb.caption)}</div>'
    mark = '<span class="check">✓</span>' if hit else ""
    return (f'<figure class="item{" hit" if hit else ""}" title="{escape(thumb.tooltip)}">{photo}{mark}'
            f"<figcaption>{escape(item)}</figcaption></figure>")


def _item_row(label: str, items: list[str], thumbs: dict[str, _Thumb], truth: set[str] | None = None) -> str:
    """A labelled row of photos; with ``truth`` given, the items in it are marked as hits."""
    cells = "".join(_figure(item, thumbs, truth is not None and item in truth) for item in items)
    return (f'<div class="row"><div class="label">{label}</div>'
            f'<div class="items">{cells or "<span class=empty>none</span>"}</div></div>')


def _user_block(result: EvaluationResult, user: str, thumbs: dict[str, _Thumb]) -> str:
    truth = result.truth[user]
    history = result.histories[user]
    rows = [_item_row(f"history<small>latest {min(len(history), HISTORY_SHOWN)} of {len(history)}</small>",
                      _shown_history(result, user), thumbs),
            _item_row(f"bought<small>in the test period: {len(truth)}</small>", sorted(truth), thumbs)]
    for name, predictions in result.predictions.items():
        top = predictions.get(user, [])
        hits = len(set(top) & truth)
        rows.append(_item_row(f"{escape(name)}<small>{hits} hit{'' if hits == 1 else 's'}</small>", top, thumbs, truth))
    return f'<section class="user"><h3>user {escape(user)}</h3>{"".join(rows)}</section>'


def _users_section(result: EvaluationResult, sample: list[str], thumbs: dict[str, _Thumb]) -> str:
    intro = ("<p>A seeded sample of test users with a history, mostly ones with a hit. "
             "A green border and ✓ mark a recommended item the user really bought.</p>")
    blocks = "".join(_user_block(result, user, thumbs) for user in sample)
    return f"<h2>Sample of users</h2>{intro}{blocks or '<p>No test user has a history.</p>'}"
