"""``vitrina``: the local command line — index a dataset folder, serve the API, run the demo."""
from __future__ import annotations

import dataclasses
import json
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from functions.config import Settings
from functions.encoders.artifacts import fetch_models
from functions.ingest.pipeline import IngestReport
from functions.ingest.sources import FolderSource
from functions.services import Services, build_services, set_services
from functions.training import DEFAULT_EPOCHS, DEFAULT_INSTANCE_TYPE

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_CATALOG = PROJECT_ROOT / "demo" / "catalog"

cli = typer.Typer(help="Vitrina: multimodal recommendations for your own catalog.", no_args_is_help=True)
console = Console()
Database = Annotated[str | None, typer.Option(help="a separate database on the same server")]


def _services(database: str | None = None) -> Services:
    settings = dataclasses.replace(Settings.from_env(), database_name=database)
    with console.status("starting PostgreSQL and loading models…"):
        services = build_services(settings)
    set_services(services)
    return services


def _count_lines(path: Path) -> int:
    with open(path, "rb") as stream:
        return sum(1 for line in stream if line.strip())


def _index(services: Services, folder: Path, feed: str) -> IngestReport:
    total = _count_lines(folder / feed)
    columns = (TextColumn("indexing {task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(feed, total=total)
        report = services.indexer.index_feed(
            FolderSource(folder), feed, progress=lambda n: progress.advance(task, n))
        progress.update(task, completed=total)
    _print_report(report)
    return report


def _print_report(report: IngestReport) -> None:
    table = Table(title=f"feed {report.source_key}")
    for name in ("read", "indexed", "unchanged", "deleted", "without_photo", "skipped"):
        table.add_column(name, justify="right")
    table.add_row(*(str(v) for v in (report.read, report.indexed, report.unchanged, report.deleted,
                                        report.without_photo, len(report.skipped))))
    console.print(table)
    for rejection in report.skipped[:20]:
        console.print(f"  [yellow]skipped[/] line {rejection.line_no} ({rejection.product_id}): {rejection.reason}")
    if len(report.skipped) > 20:
        console.print(f"  … and {len(report.skipped) - 20} more")


@cli.command()
def index(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="dataset folder")],
    feed: Annotated[str, typer.Option(help="feed file inside the folder")] = "catalog.jsonl",
    database: Database = None,
) -> None:
    """Index a dataset folder (catalog.jsonl + images/) into the store."""
    _index(_services(database), folder, feed)


def _serve(host: str, port: int) -> None:
    from chalice.config import Config
    from chalice.local import create_local_server

    from app import app

    server = create_local_server(app, Config.create(chalice_app=app, app_name=app.app_name), host, port)
    # Ctrl-C and `kill` both end the loop; the embedded database stops with the process.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("stopped")


@cli.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the REST API locally."""
    services = _services()
    console.print(f"model {services.space.version}; serving http://{host}:{port}")
    _serve(host, port)


@cli.command()
def demo(host: str = "127.0.0.1", port: int = 8000,
         catalog: Annotated[Path, typer.Option(help="dataset folder to index")] = DEMO_CATALOG) -> None:
    """Index the demo catalog (unchanged products are skipped) and serve the API."""
    services = _services()
    _index(services, catalog, "catalog.jsonl")
    first = json.loads((catalog / "catalog.jsonl").open(encoding="utf-8").readline())["id"]
    base = f"http://{host}:{port}"
    console.print(f"\n[bold]Vitrina is serving {base}[/] (model {services.space.version}). Try:\n")
    console.print(f"  curl '{base}/items/{first}'", soft_wrap=True)
    console.print(f"  curl '{base}/items/{first}/similar?k=5'", soft_wrap=True)
    console.print(f"  curl -X POST {base}/search -H 'content-type: application/json' -d '{{\"text\": \"blue denim jeans\", \"k\": 5}}'", soft_wrap=True)
    console.print(f"  curl -X POST {base}/search -H 'content-type: application/json' -d '{{\"text\": \"мужские кроссовки\", \"k\": 5}}'", soft_wrap=True)
    console.print(f"  curl -X POST {base}/search -H 'content-type: application/json' -d \"{{\\\"image\\\": \\\"$(base64 -w0 {catalog / 'images' / (first + '.jpg')})\\\"}}\"", soft_wrap=True)
    console.print("\nCtrl-C stops the server and the database.\n")
    _serve(host, port)


def _metrics_table(title: str, rows: dict[str, dict[str, float]], k: int) -> Table:
    from functions.evaluation.run import METRIC_COLUMNS

    table = Table(title=title)
    table.add_column("recommender")
    for column in METRIC_COLUMNS:
        table.add_column(f"{column}@{k}" if column not in ("Coverage", "Users") else column, justify="right")
    for name, metrics in rows.items():
        table.add_row(name, *(f"{metrics[c]:.0f}" if c == "Users" else f"{metrics[c]:.4f}" for c in METRIC_COLUMNS))
    return table


@cli.command("eval")
def evaluate_command(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="dataset folder")],
    test: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="test events file")] = None,
    holdout_days: Annotated[int | None, typer.Option(min=1, help="test on the last N days instead")] = None,
    k: Annotated[int, typer.Option(min=1, max=100)] = 12,
    report: Annotated[Path | None, typer.Option(help="write an HTML report here")] = None,
    database: Annotated[str | None, typer.Option(help="database for the dataset (default eval_<folder>)")] = None,
    compare: Annotated[list[str] | None, typer.Option(
        help="also score this model set's fusion (folder or s3://, e.g. a trained version); repeatable")] = None,
) -> None:
    """Compare every recommender on a dataset: fit on training events, predict each test user's items."""
    import time

    from functions.encoders.model_set import load_model_set
    from functions.evaluation.run import run_evaluation

    started = time.perf_counter()
    if test is None and holdout_days is None:
        test = folder / "test.csv" if (folder / "test.csv").is_file() else None
        holdout_days = None if test else 1
    services = _services(database or "eval_" + "".join(c if c.isalnum() else "_" for c in folder.resolve().name))
    _index(services, folder, "catalog.jsonl")
    with console.status("fitting and predicting…") as status:
        others = [load_model_set(location, services.settings.models_cache) for location in compare or ()]
        result, train, test_events = run_evaluation(
            services, folder, test_file=test, holdout_days=holdout_days, k=k, compare=others,
            progress=lambda name: status.update(f"done: {name}"))
    console.print(_metrics_table(f"all test users (k={k})", result.overall, k))
    console.print(_metrics_table(f"cold-start items: {len(result.cold_items)} test items with no training events",
                                 result.cold_start, k))
    for name, loaded in (("events.csv", train), ("test file", test_events)):
        if loaded is not None and loaded.skipped:
            console.print(f"skipped in {name}: " + ", ".join(f"{n} {reason}" for reason, n in loaded.skipped.items()))
    if report:
        from functions.evaluation.report import write_report

        write_report(report, result, folder)
        console.print(f"report: {report}")
    console.print(f"wall time {time.perf_counter() - started:.0f} s")


models_cli = typer.Typer(help="Model versions: verify, activate (roll out), roll back, list.", no_args_is_help=True)
cli.add_typer(models_cli, name="models")


@models_cli.command("verify")
def models_verify(location: Annotated[str, typer.Argument(help="models folder or s3:// prefix")] = "models") -> None:
    """Verify a models folder against its manifest and describe it (build it with `make models`)."""
    settings = Settings.from_env()
    folder, manifest = fetch_models(location, settings.models_cache)
    console.print(f"[green]verified[/] {folder} — model version {manifest['version']}")
    table = Table("part", "version", "file", "dim")
    for part in ("text_encoder", "image_encoder", "fusion"):
        spec = manifest[part]
        table.add_row(part, spec["version"], spec["file"], str(spec["dim"]))
    console.print(table)


@models_cli.command("activate")
def models_activate(
    location: Annotated[str, typer.Argument(help="folder or s3:// prefix of the new version")],
    keep: Annotated[int | None, typer.Option(
        min=1, help="versions whose vectors are kept, for rollback (default VITRINA_KEEP_MODEL_VERSIONS, 3)")] = None,
    database: Database = None,
) -> None:
    """Roll a version out: re-fuse the stored vectors, build its index, switch in one transaction."""
    from functions.rollout import activate

    services = _services(database)
    with Progress(TextColumn("re-fusing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("refuse", total=None)
        report = activate(services.pool, location, services.settings.models_cache,
                          keep=keep or services.settings.keep_model_versions,
                          progress=lambda n: progress.advance(task, n))
    console.print(f"[green]active[/] {report.version}: {report.products} products in {report.seconds:.1f} s"
                  + (f"; vectors dropped for {', '.join(report.purged)}" if report.purged else ""))


@models_cli.command("rollback")
def models_rollback(database: Database = None) -> None:
    """Return to the previously active version."""
    from functions.rollout import rollback

    console.print(f"[green]active[/] {rollback(_services(database).pool)}")


@models_cli.command("list")
def models_list(database: Database = None) -> None:
    """Every known version with its status and location."""
    with _services(database).pool.connection() as conn:
        rows = conn.execute("SELECT version, status, dim, activated_at, location FROM models"
                            " ORDER BY created_at").fetchall()
    table = Table("version", "status", "dim", "activated", "location")
    for version, status, dim, activated, location in rows:
        table.add_row(version, status, str(dim), activated.isoformat(timespec="seconds") if activated else "",
                      location or "")
    console.print(table)


@cli.command()
def export(
    out: Annotated[Path, typer.Argument(help="folder to write catalog.npz, events.csv, manifest.json")],
    events: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                help="take events from this CSV instead of the store")] = None,
    database: Database = None,
) -> None:
    """Export what the training job learns from: base vectors, categories, events, the manifest."""
    from functions.export import export_training_data

    services = _services(database)
    counts = export_training_data(services, out, events)
    console.print(f"exported {counts['items']} items and {counts['events']} events to {out}")


@cli.command()
def train(
    local: Annotated[bool, typer.Option("--local/--cloud", help="this machine, or SageMaker on a spot GPU")] = True,
    export_dir: Annotated[Path, typer.Option("--export", help="where `vitrina export` writes (local)")] = Path("out/export"),
    events: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="events CSV instead of the store")] = None,
    artifacts: Annotated[Path, typer.Option(help="where the new version is published (local)")] = Path("artifacts"),
    epochs: Annotated[int | None, typer.Option(min=1)] = None,
    force: Annotated[bool, typer.Option(help="publish even if the evaluation gate says no")] = False,
    role_arn: Annotated[str | None, typer.Option(help="SageMaker execution role (cloud)")] = None,
    image_uri: Annotated[str | None, typer.Option(help="training image in ECR (cloud)")] = None,
    bucket: Annotated[str | None, typer.Option(help="the stack's artifacts bucket, s3://NAME (cloud)")] = None,
    instance_type: Annotated[str, typer.Option(help="SageMaker instance type (cloud)")] = DEFAULT_INSTANCE_TYPE,
    database: Database = None,
) -> None:
    """Retrain the fusion model on the shop's own interactions; the job publishes only if it wins.

    Both ways export the store first; --cloud uploads the export to S3 and starts a SageMaker job."""
    import subprocess

    from functions.training import CloudTraining, export_and_start, local_command

    if not local:
        if not (role_arn and image_uri and bucket and bucket.startswith("s3://")):
            raise typer.BadParameter("--cloud needs --role-arn, --image-uri and --bucket s3://NAME")
        import boto3

        config = CloudTraining.in_bucket(bucket, role_arn, image_uri, instance_type=instance_type,
                                         epochs=epochs or DEFAULT_EPOCHS)
        arn = export_and_start(_services(database), boto3.client("s3"), boto3.client("sagemaker"), config,
                               export_dir)
        console.print(f"exported to {config.export_s3}; started {arn}")
        return
    from functions.export import export_training_data
    from functions.store.models import model_location

    services = _services(database)
    counts = export_training_data(services, export_dir, events)
    console.print(f"exported {counts['items']} items and {counts['events']} events to {export_dir}")
    with services.pool.connection() as conn:
        base = model_location(conn, services.models.version) or services.settings.models_location
    command = local_command(PROJECT_ROOT / ".venv-train" / "bin" / "python", export_dir.resolve(), Path(base),
                            artifacts.resolve(), epochs=epochs, force=force)
    code = subprocess.run(command, cwd=PROJECT_ROOT).returncode
    if code != 0:
        console.print(f"[red]training ended with exit code {code}[/] (3: the evaluation gate kept the active model)")
        raise typer.Exit(code)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cli()
