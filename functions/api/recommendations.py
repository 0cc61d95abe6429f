"""Events in; personal recommendations, popular items and bought-together out — all live."""
from __future__ import annotations

from typing import Any

from functions.api.catalog import item_view
from functions.api.params import ListOptions
from functions.errors import NotFound
from functions.recommenders.algorithms import VitrinaRecommender, fill
from functions.recommenders.base import Scored
from functions.services import Services
from functions.store import catalog, events
from functions.store.signals import PostgresSignals


def record(services: Services, new_events: list[events.NewEvent]) -> dict[str, int]:
    with services.pool.connection() as conn:
        stored, duplicates = events.record_events(conn, new_events)
    return {"stored": stored, "duplicates": duplicates}


def _answer(conn, services: Services, ranked: list[Scored], source: str) -> dict[str, Any]:
    products = catalog.get_products(conn, [item for item, _ in ranked])
    items = [{**item_view(products[item]), "score": round(score, 6)}
             for item, score in ranked if item in products]
    return {"items": items, "source": source, "model_version": services.space.version}


def for_actor(services: Services, options: ListOptions, *, user_id: str | None = None,
              session_id: str | None = None, include_purchased: bool = False) -> dict[str, Any]:
    """Recommendations from the actor's live history; no history → popular items."""
    with services.pool.connection() as conn:
        past = events.history(conn, user_id=user_id, session_id=session_id)
        bought = set() if include_purchased else {e.item_id for e in past if e.type == "purchase"}
        recommender = VitrinaRecommender().with_signals(PostgresSignals(conn, services.space, options.filter))
        ranked = recommender.recommend(past, options.k, exclude=bought)
        return _answer(conn, services, ranked, "personal" if past else "popular")


def popular(services: Services, options: ListOptions, days: int) -> dict[str, Any]:
    with services.pool.connection() as conn:
        signals = PostgresSignals(conn, services.space, options.filter, popular_days=days)
        return _answer(conn, services, signals.popular(options.k, ()), "popular")


def bought_together(services: Services, item_id: str, options: ListOptions) -> dict[str, Any]:
    """Items bought (or carted) by the same customers; content neighbours fill in for new items."""
    with services.pool.connection() as conn:
        if catalog.get_product(conn, item_id) is None:
            raise NotFound(f"no item with id {item_id!r}")
        signals = PostgresSignals(conn, services.space, options.filter, co_types=("purchase", "cart"))
        together = signals.co_occurring({item_id: 1.0}, options.k, {item_id})
        if len(together) < options.k:
            together = fill(together, signals.nearest({item_id: 1.0}, options.k, {item_id}, "fused"), options.k)
        return _answer(conn, services, together, "bought-together")
