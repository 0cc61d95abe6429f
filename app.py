"""Vitrina's Chalice app: routes and triggers only — the logic lives in ``functions/``."""
from __future__ import annotations

import functools
from typing import Any, Callable

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from chalice import Chalice, Response

from functions.api import catalog as catalog_api
from functions.api.params import list_options, parse_json_object, reject_unknown, search_request
from functions.errors import VitrinaError
from functions.ingest.s3_events import handle_s3_event
from functions.services import get_services

app = Chalice(app_name="vitrina")
logger = Logger(service="vitrina")
# The logic logs through the standard library; give its loggers Powertools' structured JSON.
copy_config_to_registered_loggers(source_logger=logger, include={"functions"})
_s3_client = None


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


@app.lambda_function(name="index")
def index_uploads(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """S3 ObjectCreated on the uploads bucket (declared in infra/, as `chalice package` needs)."""
    global _s3_client
    if _s3_client is None:
        import boto3

        _s3_client = boto3.client("s3")
    reports = [report.as_dict() for report in handle_s3_event(event, get_services().indexer, _s3_client)]
    logger.info("indexed uploads", extra={"reports": reports})
    return {"reports": reports}
