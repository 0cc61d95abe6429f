"""Build the Lambda layer with Vitrina's native dependencies, reproducibly, for python3.12.

    python layers/build.py [--arch x86_64 --arch arm64] [--out out] [--cache .cache/layer-wheels]

Why a layer: the dependencies unzip to far more than the 50 MB `chalice deploy` uploads directly,
and they change rarely, while app.py + functions/ change on every release. The function zip holds
only the code; the layer (``python/`` at the zip's root, on ``sys.path`` in Lambda) holds
layers/requirements.txt, downloaded as manylinux wheels for the target architecture (never built
here, so any machine builds both architectures) and trimmed of what the runtime never imports.

Reproducible: pinned versions, ``--no-deps`` (the requirements are the whole closure), sorted zip
entries with fixed timestamps — the same inputs give a byte-identical zip. A build whose inputs
did not change since the last one is skipped (the key sits in ``layer-<arch>.json``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"
PYTHON_VERSION = "3.12"
# Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34): any manylinux tag up to 2.34 runs.
MANYLINUX = ("manylinux2014", "manylinux_2_17", "manylinux_2_24", "manylinux_2_28", "manylinux_2_34")
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}
# Paths (relative to python/) the runtime never imports: sample data, tooling, headers, tests.
TRIM_PATHS = (
    "onnxruntime/datasets", "onnxruntime/tools", "onnxruntime/transformers", "onnxruntime/quantization",
    "numpy/f2py", "numpy/_core/include", "numpy/_pyinstaller", "numpy/tests",
    "PIL/.dylibs",
)
TRIM_DIR_NAMES = {"__pycache__", "tests", "testing_data"}
TRIM_SUFFIXES = (".pyi", ".pyc", ".h", ".c", ".pxd")
# A fixed timestamp makes the zip a function of its contents only.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def build_key(arch: str) -> str:
    """Changes whenever the requirements, this script or the target changes."""
    digest = hashlib.sha256()
    for part in (REQUIREMENTS.read_bytes(), Path(__file__).read_bytes(), arch.encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def download_wheels(arch: str, cache: Path) -> list[Path]:
    """The pinned wheels for ``arch``; pip keeps what is already in ``cache``."""
    folder = cache / arch
    folder.mkdir(parents=True, exist_ok=True)
    platforms = [arg for tag in MANYLINUX for arg in ("--platform", f"{tag}_{ARCHITECTURES[arch]}")]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--only-binary=:all:", *platforms, "--python-version", PYTHON_VERSION,
         "--implementation", "cp", "--abi", f"cp{PYTHON_VERSION.replace('.', '')}",
         "-r", str(REQUIREMENTS), "-d", str(folder)],
        check=True,
    )
    wanted = _pinned_names()
    wheels = [w for w in folder.glob("*.whl") if _wheel_name(w) in wanted and _wheel_version(w) == wanted[_wheel_name(w)]]
    missing = set(wanted) - {_wheel_name(w) for w in wheels}
    if missing:
        raise SystemExit(f"no {arch} wheel found for: {', '.join(sorted(missing))}")
    return sorted(wheels)


def _pinned_names() -> dict[str, str]:
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[_normalise(name.split("[")[0])] = version
    return pins


def _normalise(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _wheel_name(wheel: Path) -> str:
    return _normalise(wheel.name.split("-")[0])


def _wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def trim(root: Path) -> None:
    """Remove what the runtime never imports (tests/test_layer.py runs the app from the result)."""
    for relative in TRIM_PATHS:
        shutil.rmtree(root / relative, ignore_errors=True)
    for dirpath, dirnames, filenames in os.walk(root, topdown=True):
        for name in [d for d in dirnames if d in TRIM_DIR_NAMES]:
            shutil.rmtree(Path(dirpath) / name)
            dirnames.remove(name)
        for name in filenames:
            if name.endswith(TRIM_SUFFIXES):
                (Path(dirpath) / name).unlink()


def write_zip(staging: Path, target: Path) -> None:
    """A deterministic zip: sorted entries, fixed dates, only the executable bit kept."""
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(staging).as_posix(), date_time=ZIP_DATE)
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as data:
                archive.writestr(info, data.read())


def build_layer(arch: str, out: Path, cache: Path) -> dict[str, object]:
    """Build ``out/layer-<arch>.zip`` unless it is up to date; returns its description."""
    if arch not in ARCHITECTURES:
        raise SystemExit(f"unknown architecture {arch!r}: use one of {', '.join(ARCHITECTURES)}")
    out.mkdir(parents=True, exist_ok=True)
    target, described = out / f"layer-{arch}.zip", out / f"layer-{arch}.json"
    key = build_key(arch)
    if target.is_file() and described.is_file():
        description = json.loads(described.read_text())
        if description.get("key") == key:
            return description
    wheels = download_wheels(arch, cache)
    with tempfile.TemporaryDirectory(prefix=f"layer-{arch}-") as tmp:
        staging = Path(tmp) / "layer"
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(staging / "python")
        trim(staging / "python")
        partial = target.with_suffix(".zip.partial")
        write_zip(staging, partial)
        unzipped = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
    partial.replace(target)
    description = {
        "key": key, "arch": arch, "python": PYTHON_VERSION,
        "wheels": [w.name for w in wheels],
        "unzipped_bytes": unzipped, "zipped_bytes": target.stat().st_size,
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
    }
    described.write_text(json.dumps(description, indent=2) + "\n")
    return description


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", action="append", choices=sorted(ARCHITECTURES),
                        help="target architecture (repeatable; default: both)")
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--cache", type=Path, default=Path(".cache/layer-wheels"))
    args = parser.parse_args()
    for arch in args.arch or sorted(ARCHITECTURES):
        description = build_layer(arch, args.out, args.cache)
        print(f"layer-{arch}.zip: {description['unzipped_bytes'] / 2**20:.1f} MiB unzipped, "
              f"{description['zipped_bytes'] / 2**20:.1f} MiB zipped")


if __name__ == "__main__":
    main()
