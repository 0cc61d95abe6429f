"""The REST API through Chalice's test client, on a real store with the real models."""
from __future__ import annotations

import base64
import io
import json

import pytest
from chalice.test import Client
from PIL import Image

import app as vitrina_app
from functions.api.params import MAX_IMAGE_BYTES
from functions.ingest.sources import FolderSource
from tests.support import FASHION, write_dataset

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def client(services, fashion_products, tmp_path):
    folder = write_dataset(tmp_path / "shop", fashion_products[:60])
    services.indexer.index_feed(FolderSource(folder), "catalog.jsonl")
    with Client(vitrina_app.app) as test_client:
        yield test_client


def post(client, path: str, body: object):
    return client.http.post(path, headers=JSON, body=body if isinstance(body, str) else json.dumps(body))


def assert_error(response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.body
    body = json.loads(response.body)
    assert fragment in body["message"], body
    assert set(body) == {"error", "message"}


def test_get_item(client, fashion_products) -> None:
    product = fashion_products[0]
    response = client.http.get(f"/items/{product['id']}")
    assert response.status_code == 200
    item = json.loads(response.body)
    assert (item["id"], item["title"], item["category"]) == (product["id"], product["title"], product["category"])
    assert item["attributes"] == product["attributes"]


def test_similar_items_with_filters(client, fashion_products) -> None:
    anchor = fashion_products[0]["id"]
    body = json.loads(client.http.get(f"/items/{anchor}/similar?k=5").body)
    ids = [item["id"] for item in body["items"]]
    assert len(ids) == 5 and anchor not in ids
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)

    excluded = ",".join(ids[:2])
    body = json.loads(client.http.get(f"/items/{anchor}/similar?k=5&exclude={excluded}").body)
    assert not set(ids[:2]) & {item["id"] for item in body["items"]}

    category = fashion_products[1]["category"]
    body = json.loads(client.http.get(f"/items/{anchor}/similar?k=3&category={category}").body)
    assert body["items"] and {item["category"] for item in body["items"]} == {category}


def test_search_by_text_and_by_photo(client, fashion_products) -> None:
    body = json.loads(post(client, "/search", {"text": "wrist watch", "k": 5}).body)
    assert len(body["items"]) == 5

    product = fashion_products[3]
    photo = base64.b64encode((FASHION / product["image"]).read_bytes()).decode()
    body = json.loads(post(client, "/search", {"image": photo, "k": 3}).body)
    assert body["items"][0]["id"] == product["id"]


def test_bad_requests_get_4xx_json(client, fashion_products) -> None:
    anchor = fashion_products[0]["id"]
    assert_error(client.http.get("/items/no-such-item"), 404, "no item")
    assert_error(client.http.get("/items/no-such-item/similar"), 404, "no item")
    assert_error(client.http.get(f"/items/{anchor}/similar?k=0"), 400, "between 1 and 100")
    assert_error(client.http.get(f"/items/{anchor}/similar?k=101"), 400, "between 1 and 100")
    assert_error(client.http.get(f"/items/{anchor}/similar?k=ten"), 400, "'k' must be an integer")
    assert_error(client.http.get(f"/items/{anchor}/similar?color=red"), 400, "unknown parameter(s): color")
    assert_error(client.http.get(f"/items/{anchor}?k=3"), 400, "unknown parameter(s): k")
    assert_error(post(client, "/search", "{not json"), 400, "malformed JSON")
    assert_error(post(client, "/search", "[1, 2]"), 400, "JSON object")
    assert_error(post(client, "/search", {}), 400, "exactly one of 'text' or 'image'")
    assert_error(post(client, "/search", {"text": "a", "image": "b"}), 400, "exactly one")
    assert_error(post(client, "/search", {"text": "   "}), 400, "non-empty string")
    assert_error(post(client, "/search", {"text": "shirt", "limit": 3}), 400, "unknown parameter(s): limit")
    assert_error(post(client, "/search", {"image": "***"}), 400, "not valid base64")
    not_a_photo = base64.b64encode(b"GIF89a but not really").decode()
    assert_error(post(client, "/search", {"image": not_a_photo}), 400, "cannot decode image")
    huge = "A" * (MAX_IMAGE_BYTES * 4 // 3 + 8)
    assert_error(post(client, "/search", {"image": huge}), 413, "larger than")
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, format="PNG")
    bomb = base64.b64encode(buffer.getvalue()).decode()
    assert_error(post(client, "/search", {"image": bomb}), 400, "exceeds the limit")
