"""Vitrina's Chalice app: routes and triggers only — the logic lives in ``functions/``."""
from __future__ import annotations

import functools
from typing import Any, Callable

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from chalice import Chalice, CORSConfig, Response

from functions.api import catalog as catalog_api
from functions.api import recommendations as recommendations_api
from functions.api.params import (list_options, parse_days, parse_events, parse_flag, parse_json_object,
                                  reject_unknown, search_request)
from functions.errors import VitrinaError
from functions.ingest.s3_events import handle_s3_event
from functions.services import get_services

app = Chalice(app_name="vitrina")
logger = Logger(service="vitrina")
# The logic logs through the standard library; give its loggers Powertools' structured JSON.
copy_config_to_registered_loggers(source_logger=logger, include={"functions"})
# Storefronts call the API from their own origins: routes take `cors=CORS`. Any origin may read;
# writes need an API key, not an origin (Chalice writes this into the API at package time).
CORS = CORSConfig(allow_origin="*", allow_headers=["X-Api-Key"], max_age=600)
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
