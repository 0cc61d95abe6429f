"""The `vitrina` command end to end: index a dataset folder, evaluate it, write the report."""
from __future__ import annotations

import csv
import json
import os

from typer.testing import CliRunner

from functions.cli import cli
from functions.encoders.artifacts import MANIFEST, served_files
from tests.support import MODELS_DIR, write_dataset


def test_eval_prints_every_recommender_and_writes_the_report(server_url, fashion_products, tmp_path,
                                                             monkeypatch) -> None:
    monkeypatch.setattr("functions.services._services", None)  # the CLI installs its own; undone after
    monkeypatch.setenv("DATABASE_URL", server_url)
    monkeypatch.setenv("VITRINA_DATA_DIR", str(tmp_path / "data"))
    products = fashion_products[:30]
    folder = write_dataset(tmp_path / "toyshop", products)
    with open(folder / "events.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["user_id", "item_id", "event", "timestamp", "price"])
        for user in range(12):
            for day, product in ((1, products[user]), (2, products[user + 1]), (3, products[user + 2])):
                writer.writerow([f"u{user}", product["id"], "purchase", f"2024-01-0{day}", 1])
        writer.writerow(["u99", "not-in-catalog", "purchase", "2024-01-02", 1])

    # Another version to compare: the same fusion graph under another name must score the same.
    manifest = json.loads((MODELS_DIR / MANIFEST).read_text())
    relabelled = tmp_path / "relabelled"
    relabelled.mkdir()
    for name in served_files(manifest):
        os.symlink(MODELS_DIR / name, relabelled / name)
    manifest["version"], manifest["fusion"]["version"] = "v-same", "fusion-same-0a1b2c3d"
    (relabelled / MANIFEST).write_text(json.dumps(manifest))

    result = CliRunner().invoke(cli, ["eval", str(folder), "--holdout-days", "1", "--k", "5",
                                      "--report", str(tmp_path / "report.html"), "--compare", str(relabelled)])
    assert result.exit_code == 0, result.output
    for name in ("popular", "co-occurrence", "text-only", "image-only", "fusion-v0", "vitrina", "implicit-als"):
        assert name in result.output
    rows = {cells[1].strip(): cells[2:] for cells in (line.split("│") for line in result.output.splitlines())
            if len(cells) > 3}
    assert rows["fusion-same"] == rows["fusion-v0"]
    assert "1 item not in catalog" in result.output and "wall time" in result.output
    assert (tmp_path / "report.html").stat().st_size > 10_000


def test_train_local_exports_trains_publishes_and_the_version_activates(server_url, fashion_products, tmp_path,
                                                                        monkeypatch) -> None:
    monkeypatch.setattr("functions.services._services", None)
    monkeypatch.setenv("DATABASE_URL", server_url)
    monkeypatch.setenv("VITRINA_DATA_DIR", str(tmp_path / "data"))
    products = fashion_products[:24]
    folder = write_dataset(tmp_path / "trainshop", products)
    events = tmp_path / "events.csv"
    with open(events, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["user_id", "item_id", "event", "timestamp"])
        for user in range(20):
            for day in (1, 3, 5):
                writer.writerow([f"u{user}", products[(user + day) % 24]["id"], "purchase", f"2024-01-0{day}"])
    runner, database = CliRunner(), ["--database", "train_cli"]
    assert runner.invoke(cli, ["index", str(folder), *database]).exit_code == 0

    trained = runner.invoke(cli, ["train", "--local", "--export", str(tmp_path / "export"), "--events", str(events),
                                  "--artifacts", str(tmp_path / "artifacts"), "--epochs", "1", "--force", *database])
    assert trained.exit_code == 0, trained.output
    assert "exported 24 items and 60 events" in trained.output
    (version,) = [p for p in (tmp_path / "artifacts").iterdir() if not p.name.startswith(".")]

    activated = runner.invoke(cli, ["models", "activate", str(version), *database])
    assert activated.exit_code == 0, activated.output
    assert f"active {version.name}: 24 products" in activated.output
