"""Events, personal recommendations, popular and bought-together through the API, live."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from chalice.test import Client

import app as vitrina_app
from functions.ingest.sources import FolderSource
from tests.support import write_dataset

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def shop(services, fashion_products, tmp_path):
    """60 real products with prices and stock levels; returns the products."""
    products = [dict(p, price=float(5 + (i * 7) % 100), in_stock=i % 5 != 0)
                for i, p in enumerate(fashion_products[:60])]
    services.indexer.index_feed(FolderSource(write_dataset(tmp_path / "shop", products)), "catalog.jsonl")
    return products


@pytest.fixture
def client(shop):
    with Client(vitrina_app.app) as test_client:
        yield test_client


def post_events(client, body):
    return client.http.post("/events", headers=JSON, body=json.dumps(body))


def get(client, path: str) -> tuple[int, dict]:
    response = client.http.get(path)
    return response.status_code, json.loads(response.body)


def ids(body: dict) -> list[str]:
    return [item["id"] for item in body["items"]]


def test_events_are_stored_once_per_event_id(client, shop) -> None:
    item = shop[0]["id"]
    first = post_events(client, {"user_id": "u1", "item_id": item, "type": "view", "event_id": "e-1"})
    assert (first.status_code, json.loads(first.body)) == (200, {"stored": 1, "duplicates": 0})
    batch = {"events": [{"user_id": "u1", "item_id": item, "type": "view", "event_id": "e-1"},
                        {"session_id": "s1", "item_id": shop[1]["id"], "type": "cart"}]}
    assert json.loads(post_events(client, batch).body) == {"stored": 1, "duplicates": 1}


@pytest.mark.parametrize(("body", "fragment"), [
    ({"item_id": "x", "type": "view"}, "give 'user_id' or 'session_id'"),
    ({"user_id": "u", "type": "view"}, "missing 'item_id'"),
    ({"user_id": "u", "item_id": "ITEM", "type": "like"}, "'type' must be one of"),
    ({"user_id": "u", "item_id": "no-such-item", "type": "view"}, "unknown or deleted item"),
    ({"user_id": "u", "item_id": "ITEM", "type": "view", "timestamp": "yesterday"}, "ISO 8601"),
    ({"user_id": "u", "item_id": "ITEM", "type": "view", "timestamp": "2999-01-01T00:00:00Z"}, "out of range"),
    ({"user_id": 5, "item_id": "ITEM", "type": "view"}, "'user_id' must be a non-empty string"),
    ({"user_id": "u", "item_id": "ITEM", "type": "view", "rating": 5}, "unknown parameter(s): rating"),
    ({"events": []}, "non-empty list"),
    ({"events": [{"user_id": "u", "item_id": "ITEM", "type": "view"}, "oops"]}, "events[1]: an event must be"),
])
def test_bad_events_are_refused_whole(client, shop, body, fragment) -> None:
    body = json.loads(json.dumps(body).replace("ITEM", shop[0]["id"]))
    response = post_events(client, body)
    assert response.status_code == 400, response.body
    assert fragment in json.loads(response.body)["message"]
    status, recs = get(client, "/users/u/recommendations")
    assert recs["source"] == "popular"  # nothing of the refused batch was stored


def test_oversized_batch_and_malformed_json(client, shop) -> None:
    many = {"events": [{"user_id": "u", "item_id": shop[0]["id"], "type": "view"}] * 501}
    assert post_events(client, many).status_code == 413
    response = client.http.post("/events", headers=JSON, body="{nope")
    assert response.status_code == 400 and "malformed JSON" in json.loads(response.body)["message"]


def test_an_event_changes_the_very_next_answer(client, shop) -> None:
    for i in range(5):  # some popularity so an unknown user gets something
        post_events(client, {"user_id": f"other{i}", "item_id": shop[10]["id"], "type": "purchase"})
    status, cold = get(client, "/users/newbie/recommendations?k=5")
    assert status == 200 and cold["source"] == "popular" and ids(cold)[0] == shop[10]["id"]

    watch = next(p for p in shop if p["category"] == "Watches")
    post_events(client, {"user_id": "newbie", "item_id": watch["id"], "type": "view"})
    status, warm = get(client, "/users/newbie/recommendations?k=5")
    assert warm["source"] == "personal" and warm["items"] != cold["items"]
    assert "Watches" in [item["category"] for item in warm["items"]]

    post_events(client, {"session_id": "guest-1", "item_id": watch["id"], "type": "view"})
    assert get(client, "/sessions/guest-1/recommendations?k=5")[1]["source"] == "personal"


def test_purchased_items_are_left_out_unless_asked(client, shop) -> None:
    bought = shop[3]["id"]
    post_events(client, {"user_id": "buyer", "item_id": bought, "type": "purchase"})
    assert bought not in ids(get(client, "/users/buyer/recommendations?k=20")[1])
    assert bought in ids(get(client, "/users/buyer/recommendations?k=20&include_purchased=true")[1])


def test_popular_over_a_window_and_by_category(client, shop) -> None:
    old = (datetime.now(timezone.utc) - timedelta(days=20)).isoformat()
    post_events(client, {"events": [
        {"user_id": "a", "item_id": shop[1]["id"], "type": "purchase", "timestamp": old},
        {"user_id": "b", "item_id": shop[1]["id"], "type": "purchase", "timestamp": old},
        {"user_id": "c", "item_id": shop[2]["id"], "type": "view"}]})
    assert ids(get(client, "/popular?days=7")[1]) == [shop[2]["id"]]
    assert ids(get(client, "/popular?days=30")[1]) == [shop[1]["id"], shop[2]["id"]]
    category = shop[1]["category"]
    body = get(client, f"/popular?days=30&category={category}")[1]
    assert {item["category"] for item in body["items"]} == {category}
    assert get(client, "/popular?days=0")[0] == 400


def test_bought_together_then_content_for_new_items(client, shop) -> None:
    a, b, c = shop[20]["id"], shop[21]["id"], shop[22]["id"]
    post_events(client, {"events": [
        {"user_id": "x", "item_id": a, "type": "purchase"}, {"user_id": "x", "item_id": b, "type": "purchase"},
        {"user_id": "y", "item_id": a, "type": "purchase"}, {"user_id": "y", "item_id": b, "type": "purchase"},
        {"user_id": "y", "item_id": c, "type": "purchase"}]})
    status, body = get(client, f"/items/{a}/bought-together?k=5")
    assert status == 200 and ids(body)[:2] == [b, c] and len(body["items"]) == 5
    fresh = shop[40]["id"]  # no events at all: its content neighbours stand in
    status, body = get(client, f"/items/{fresh}/bought-together?k=4")
    assert status == 200 and len(body["items"]) == 4 and fresh not in ids(body)
    assert get(client, "/items/nope/bought-together")[0] == 404


def test_filters_apply_on_every_recommendation_route(client, shop) -> None:
    post_events(client, {"user_id": "f", "item_id": shop[0]["id"], "type": "view"})
    query = "k=10&min_price=20&max_price=60&in_stock=true"
    by_id = {p["id"]: p for p in shop}
    for path in (f"/users/f/recommendations?{query}", f"/items/{shop[0]['id']}/similar?{query}",
                 f"/items/{shop[0]['id']}/bought-together?{query}"):
        status, body = get(client, path)
        assert status == 200 and body["items"], path
        for item in body["items"]:
            assert 20 <= by_id[item["id"]]["price"] <= 60 and by_id[item["id"]]["in_stock"], path
    assert get(client, "/popular?min_price=10&max_price=5")[0] == 400
    assert get(client, "/popular?in_stock=maybe")[0] == 400


def test_a_rare_category_filter_still_fills_k(client, shop) -> None:
    # HNSW filters after the scan; iterative scan keeps going until k items of the category exist.
    counts: dict[str, int] = {}
    for product in shop:
        counts[product["category"]] = counts.get(product["category"], 0) + 1
    rare, available = min(counts.items(), key=lambda pair: (pair[1] < 3, pair[1]))
    anchor = next(p["id"] for p in shop if p["category"] != rare)
    status, body = get(client, f"/items/{anchor}/similar?k={available}&category={rare}")
    assert status == 200 and len(body["items"]) == available


def test_events_for_a_deleted_product_are_refused(services, client, shop, tmp_path) -> None:
    gone = shop[7]["id"]
    delta = tmp_path / "shop" / "gone.delta.jsonl"
    delta.write_text(json.dumps({"id": gone, "deleted": True}) + "\n")
    assert services.indexer.index_feed(FolderSource(tmp_path / "shop"), "gone.delta.jsonl").deleted == 1
    response = post_events(client, {"user_id": "u", "item_id": gone, "type": "view"})
    assert response.status_code == 400 and "unknown or deleted item" in json.loads(response.body)["message"]
    assert get(client, f"/items/{gone}/bought-together")[0] == 404
