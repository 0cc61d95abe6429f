"""``vitrina``: the local command line — index a dataset folder, serve the API, run the demo."""
from __future__ import annotations

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

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_CATALOG = PROJECT_ROOT / "demo" / "catalog"

cli = typer.Typer(help="Vitrina: multimodal recommendations for your own catalog.", no_args_is_help=True)
console = Console()


def _services() -> Services:
    with console.status("starting PostgreSQL and loading models…"):
        services = build_services(Settings.from_env())
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
) -> None:
    """Index a dataset folder (catalog.jsonl + images/) into the store."""
    _index(_services(), folder, feed)


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


@cli.command()
def models(location: Annotated[str, typer.Argument(help="models folder or s3:// prefix")] = "models") -> None:
    """Verify a models folder against its manifest and describe it (build it with `make models`)."""
    settings = Settings.from_env()
    folder, manifest = fetch_models(location, settings.models_cache)
    console.print(f"[green]verified[/] {folder} — model version {manifest['version']}")
    table = Table("part", "version", "file", "dim")
    for part in ("text_encoder", "image_encoder", "fusion"):
        spec = manifest[part]
        table.add_row(part, spec["version"], spec["file"], str(spec["dim"]))
    console.print(table)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cli()
