"""Build helpers for the deployment tests: the packaged template and function zip, the layers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import PROJECT_ROOT

REGION = "eu-west-1"
# The Lambda limit for a function and its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
ARCHITECTURES = ("x86_64", "arm64")


def _offline_env() -> dict[str, str]:
    """No AWS credentials or profile: packaging must not need them (DESIGN.md)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_DEFAULT_REGION"] = REGION
    return env


def chalice_package(out: Path) -> Path:
    """`chalice package --merge-template infra/template.json out`; returns ``out``."""
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run([str(chalice), "package", "--merge-template", "infra/template.json", str(out)],
                   cwd=PROJECT_ROOT, env=_offline_env(), check=True, capture_output=True, timeout=600)
    return out


def build_layers(out: Path = PROJECT_ROOT / "out") -> dict[str, dict]:
    """Build (or find up to date) the layer zips where `make package` puts them; their descriptions."""
    subprocess.run([sys.executable, "layers/build.py", "--out", str(out)], cwd=PROJECT_ROOT,
                   check=True, capture_output=True, timeout=1200)
    return {arch: json.loads((out / f"layer-{arch}.json").read_text()) for arch in ARCHITECTURES}
