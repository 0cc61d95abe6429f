"""Vitrina's Chalice app: routes and triggers only — the logic lives in ``functions/``."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Chalice, CORSConfig, Response

from functions import rollout, training
from functions.api import catalog as catalog_api
from functions.api import recommendations as recommendations_api
from functions.api.params import (list_options, parse_days, parse_events, parse_flag, parse_json_object,
                                  reject_unknown, search_request)
from functions.errors import VitrinaError
from functions.ingest.batches import FeedSplitter, SqsFeedQueue, index_batch_message
from functions.ingest.s3_events import handle_s3_event
from functions.services import get_services

app = Chalice(app_name="vitrina")
logger = Logger(service="vitrina")
# The logic logs through the standard library; give its loggers Powertools' structured JSON.
copy_config_to_registered_loggers(source_logger=logger, include={"functions"})
# Storefronts call the API from their own origins: routes take `cors=CORS`. Any origin may read;
# writes need an API key, not an origin (Chalice writes this into the API at package time).
CORS = CORSConfig(allow_origin="*", allow_headers=["X-Api-Key"], max_age=600)


def json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Render a client's mistake as a 4xx JSON body ``{"error", "message"}``, never a traceback."""

    @functools.wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        try:
            return view(**kwargs)
        except VitrinaError as exc:
            return Response(body={"error": exc.code, "message": str(exc)}, status_code=exc.status)

    return wrapper


@app.route("/health", methods=["GET"])
def health() -> dict[str, Any]:
    return {"status": "ok", "model_version": get_services().space.version}


@app.route("/items/{item_id}", methods=["GET"])
@json_errors
def get_item(item_id: str) -> dict[str, Any]:
    reject_unknown(app.current_request.query_params or {}, allowed=set())
    return catalog_api.get_item(get_services(), item_id)


@app.route("/items/{item_id}/similar", methods=["GET"])
@json_errors
def similar_items(item_id: str) -> dict[str, Any]:
    options = list_options(app.current_request.query_params)
    return catalog_api.similar_items(get_services(), item_id, options)


@app.route("/search", methods=["POST"])
@json_errors
def search() -> dict[str, Any]:
    request = search_request(parse_json_object(app.current_request.raw_body))
    return catalog_api.search(get_services(), request)


@app.route("/events", methods=["POST"], api_key_required=True, cors=CORS)
@json_errors
def post_events() -> dict[str, Any]:
    """One event, or {"events": [...]}: stored all or nothing; a repeated event_id is stored once."""
    new_events = parse_events(parse_json_object(app.current_request.raw_body))
    return recommendations_api.record(get_services(), new_events)


def _personal(**actor: str) -> dict[str, Any]:
    params = dict(app.current_request.query_params or {})
    include_purchased = parse_flag(params.get("include_purchased"), "include_purchased") or False
    options = list_options(params, extra={"include_purchased"})
    return recommendations_api.for_actor(get_services(), options, include_purchased=include_purchased, **actor)


@app.route("/users/{user_id}/recommendations", methods=["GET"], cors=CORS)
@json_errors
def user_recommendations(user_id: str) -> dict[str, Any]:
    return _personal(user_id=user_id)


@app.route("/sessions/{session_id}/recommendations", methods=["GET"], cors=CORS)
@json_errors
def session_recommendations(session_id: str) -> dict[str, Any]:
    return _personal(session_id=session_id)


@app.route("/popular", methods=["GET"], cors=CORS)
@json_errors
def popular() -> dict[str, Any]:
    params = app.current_request.query_params or {}
    options = list_options(params, extra={"days"})
    return recommendations_api.popular(get_services(), options, parse_days(params.get("days")))


@app.route("/items/{item_id}/bought-together", methods=["GET"], cors=CORS)
@json_errors
def bought_together(item_id: str) -> dict[str, Any]:
    options = list_options(app.current_request.query_params)
    return recommendations_api.bought_together(get_services(), item_id, options)


# --- Triggers: uploads, the feed batch queue, published models, the retraining schedule ---------
# (infra/template.json wires their events.) Deployment wiring only; the logic is in functions/:
# ingest/s3_events.py, ingest/batches.py, rollout.py, training.py.
_s3_client = None
_sqs_client = None
_sagemaker_client = None
_batch_processor = BatchProcessor(event_type=EventType.SQS)
# Where the scheduled retraining writes its export before uploading it (Lambda's /tmp).
EXPORT_WORKDIR = "/tmp/vitrina-export"


def _aws_clients() -> tuple[Any, Any]:
    """The S3 and SQS clients, made once per container (tests install moto-backed ones)."""
    global _s3_client, _sqs_client
    import boto3

    _s3_client = _s3_client or boto3.client("s3")
    _sqs_client = _sqs_client or boto3.client("sqs")
    return _s3_client, _sqs_client


def _sagemaker() -> Any:
    global _sagemaker_client
    import boto3

    _sagemaker_client = _sagemaker_client or boto3.client("sagemaker")
    return _sagemaker_client


@app.lambda_function(name="index")
def index_uploads(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """S3 ObjectCreated on the uploads bucket (declared in infra/, as `chalice package` needs).

    A feed longer than VITRINA_FEED_BATCH_LINES is queued in batches for `index_batch`."""
    services = get_services()
    s3, sqs = _aws_clients()
    settings = services.settings
    splitter = (FeedSplitter(services.pool, SqsFeedQueue(sqs, settings.feed_queue_url), settings.feed_batch_lines)
                if settings.feed_queue_url else None)
    reports = [report.as_dict() for report in handle_s3_event(event, services.indexer, s3, splitter)]
    logger.info("indexed uploads", extra={"reports": reports})
    return {"reports": reports}


@app.lambda_function(name="index_batch")
def index_feed_batches(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS messages, each a batch of a large feed; failed ones are reported back one by one
    (ReportBatchItemFailures), so SQS retries and dead-letters only those."""
    indexer = get_services().indexer
    s3, _ = _aws_clients()

    def index_record(record: SQSRecord) -> dict[str, Any]:
        return index_batch_message(indexer, s3, record.body).as_dict()

    return process_partial_response(event=event, record_handler=index_record,
                                    processor=_batch_processor, context=context)


@app.lambda_function(name="activate_models")
def activate_published_models(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge "Object Created" for ``models/<version>/manifest.json`` in the artifacts bucket:
    roll that version out (re-fuse, index, switch). A failure is retried, then dead-lettered."""
    notice = S3EventBridgeNotificationEvent(event)
    location = rollout.announced_location(notice.detail.bucket.name, notice.detail.object.key)
    services = get_services()
    report = rollout.activate(services.pool, location, services.settings.models_cache,
                              keep=services.settings.keep_model_versions)
    result = {"location": location, "version": report.version, "products": report.products,
              "seconds": round(report.seconds, 1), "purged": report.purged}
    logger.info("activated models", extra=result)
    return result


@app.lambda_function(name="start_training")
def start_training(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The retraining schedule (EventBridge): export the store to the artifacts bucket and start
    the SageMaker job, which publishes a new version only if it beats the active one."""
    config = training.CloudTraining.from_env()
    s3, _ = _aws_clients()
    arn = training.export_and_start(get_services(), s3, _sagemaker(), config, Path(EXPORT_WORKDIR))
    logger.info("started training", extra={"training_job_arn": arn, "export": config.export_s3})
    return {"training_job_arn": arn}
