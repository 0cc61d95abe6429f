"""Cold start of a Lambda container, measured in fresh processes: importing the app, then building
the services (database pool + migrations, models loaded and verified against their manifest).

The models come from a local folder standing in for /tmp (where a container keeps what it fetched
from the artifacts bucket), so the S3 download — once per container, about 125 MB — is not
counted. The database is DATABASE_URL or the embedded server, started before the timing. One
thread, as a Lambda with about one vCPU. Run: ``.venv/bin/python bench/cold_start.py [--runs 5]``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
started = time.perf_counter()
import app
imported = time.perf_counter()
from functions.config import Settings
from functions.services import build_services
services = build_services(Settings.from_env())
built = time.perf_counter()
services.close()
print(json.dumps({"import": imported - started, "services": built - imported}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    args = parser.parse_args()

    from functions.store.database import resolve_database_url

    with tempfile.TemporaryDirectory(prefix="vitrina-cold-") as tmp:
        models = Path(tmp) / "vitrina-models"
        shutil.copytree(args.models, models, ignore=shutil.ignore_patterns("reference"))
        url = resolve_database_url(os.environ.get("DATABASE_URL"), ROOT / ".vitrina")
        env = {**os.environ, "DATABASE_URL": url, "VITRINA_MODELS": str(models), "VITRINA_THREADS": "1"}
        env.pop("DATABASE_SECRET_ARN", None)
        runs = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, check=True,
                                 capture_output=True, text=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
    print(f"cold start over {args.runs} fresh processes (median, min..max):")
    for part in ("import", "services"):
        values = [run[part] for run in runs]
        print(f"  {part:9} {statistics.median(values):6.2f} s  ({min(values):.2f}..{max(values):.2f})")
    totals = [run["import"] + run["services"] for run in runs]
    print(f"  {'total':9} {statistics.median(totals):6.2f} s")


if __name__ == "__main__":
    main()
