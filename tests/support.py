"""Paths and helpers the tests share (conftest.py holds only fixtures)."""
from __future__ import annotations

import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg

from functions.config import Settings
from functions.encoders.model_set import ModelSet
from functions.services import Services, build_services, set_services

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA = PROJECT_ROOT.parent / "shared" / "data"
FASHION = DATA / "fashion-small"
HM = DATA / "hm"
MODELS_DIR = Path(os.environ.get("VITRINA_MODELS_DIR", PROJECT_ROOT / "models"))


def create_database(server_url: str) -> str:
    """A new, empty database on the test server; returns its URL."""
    name = f"vitrina_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return psycopg.conninfo.make_conninfo(server_url, dbname=name)


def write_dataset(folder: Path, products: list[dict], source: Path = FASHION) -> Path:
    """A dataset folder holding ``products`` with copies of their photos from ``source``."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    with open(folder / "catalog.jsonl", "w", encoding="utf-8") as feed:
        for product in products:
            if product.get("image") and (source / product["image"]).is_file():
                shutil.copy(source / product["image"], folder / product["image"])
            feed.write(json.dumps(product, ensure_ascii=False) + "\n")
    return folder


def read_catalog(folder: Path) -> list[dict]:
    with open(folder / "catalog.jsonl", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def make_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(models_location=str(MODELS_DIR), models_cache=tmp_path / "cache",
                    data_dir=tmp_path / "data", database_url=database_url, threads=None)


@contextmanager
def installed_services(database_url: str, models: ModelSet, tmp_path: Path) -> Iterator[Services]:
    """Services on ``database_url``, installed as the process-wide ones the app uses."""
    built = build_services(make_settings(database_url, tmp_path), models)
    set_services(built)
    try:
        yield built
    finally:
        set_services(None)
        built.close()


# A toy purchase log shared by the recommender and report tests: u1 and u2 bought shirt-a with
# shoe-a weeks ago; shoe-b is last week's best seller; on the last day u1 buys shoe-b and u9 buys
# shirt-a and shirt-c (an item with no earlier events: the one cold-start item).
TOY_EVENTS = """user_id,item_id,event,timestamp,price
u1,shirt-a,purchase,2023-12-20,1
u1,shoe-a,purchase,2023-12-20,1
u2,shirt-a,purchase,2023-12-21,1
u2,shoe-a,purchase,2023-12-21,1
u3,shoe-b,purchase,2024-01-05,1
u3,shoe-b,purchase,2024-01-06,1
u4,shoe-b,purchase,2024-01-07,1
u5,hat-a,view,2024-01-08,1
u1,shoe-b,purchase,2024-01-09,1
u9,shirt-a,purchase,2024-01-09,1
u9,shirt-c,purchase,2024-01-09,1
"""
