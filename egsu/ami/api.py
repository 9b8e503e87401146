"""REST intake of AMI batches: POST /api/ami/v1/batches (django-ninja, OpenAPI at v1/openapi.json).

The edge only authenticates, parses and maps outcomes to HTTP statuses; egsu.ami.intake decides.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from ninja import NinjaAPI
from ninja.security import HttpBearer

from egsu.ami import intake, schemas, services, wire
from egsu.ami.models import HeadEndSystem
from egsu.readings.store import StoreUnavailableError
from egsu.request_body import read_limited

log = logging.getLogger(__name__)
RETRY_AFTER_S = 30


class HeadEndBearer(HttpBearer):
    """Authorization: Bearer <token> of one head-end system (AMI-25)."""

    def authenticate(self, request: HttpRequest, token: str) -> HeadEndSystem | None:
        return services.authenticate(token)


class AmiApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """The pydantic schemas of the request body join the components (the body is parsed by hand)."""
        schema = super().get_openapi_schema(*args, **kwargs)
        definitions = schemas.BatchDocument.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(definitions.pop("$defs", {}))
        components["BatchDocument"] = definitions
        return schema


api = AmiApi(
    title="EGSU AMI intake",
    version="ami/1",
    description="Batches of interval values, register readings, meter events and states from head-end systems. "
    "See docs/ami-intake.md.",
    urls_namespace="ami-api",
    openapi_url="/v1/openapi.json",
    docs_url="/v1/docs",
)


@api.exception_handler(DatabaseError)
def database_unavailable(request: HttpRequest, exc: DatabaseError):
    """The database failed before the batch was read (e.g. authenticating the token on a full disk):
    503 and Retry-After, as for a store that is down — never a 500 page (issue 17 disk-full drill)."""
    log.warning("AMI request refused, database unavailable: %s", exc)
    return _unavailable()


def _unavailable(batch_id: str | None = None) -> JsonResponse:
    """503 with Retry-After: nothing was stored, the head-end sends the same batch again later."""
    body = {
        "format": wire.FORMAT,
        **({"batchId": batch_id} if batch_id is not None else {}),
        "status": "unavailable",
        "code": "store-unavailable",
        "reason": "nothing was stored; send the same batch again later",
    }
    response = JsonResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/BatchDocument"}},
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": "header kind,meter,channel,time,value,quality; quality (interval and "
                    f"register lines) is empty for good, or one of {', '.join(wire.QUALITIES)}",
                }
            },
        },
    },
    "parameters": [
        {
            "name": "batchId",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "The batch id of a text/csv body (JSON carries its own).",
        }
    ],
}


@api.post(
    "/v1/batches",
    auth=HeadEndBearer(),
    response={
        200: schemas.BatchAnswer,
        400: schemas.BatchError,
        409: schemas.BatchError,
        413: schemas.BatchError,
        503: schemas.BatchError,
    },
    openapi_extra=_BODY,
    summary="Send one batch",
)
def post_batch(request: HttpRequest):
    """Store a batch; 200 with a per-item answer (also for a replay), 409 when the id was used for other content."""
    head_end: HeadEndSystem = request.auth
    content_type = (request.content_type or "").lower()
    batch_id = request.GET.get("batchId")
    limit = settings.CONFIG.max_message_bytes
    body = read_limited(request, limit)
    if body is None:  # INT-07's limit, refused before reading it: nothing stored
        answer = intake.document_error_answer(
            batch_id, wire.DocumentError("too-large", f"a batch body holds at most {limit} bytes; split it")
        )
        return JsonResponse(answer.body, status=413)
    try:
        if content_type == "text/csv":
            batch = wire.parse_csv(body, batch_id)
        elif content_type in ("application/json", ""):
            batch = wire.parse_json(body)
        else:
            raise wire.DocumentError("unsupported-media-type", "send application/json or text/csv")
    except wire.DocumentError as exc:
        answer = intake.document_error_answer(batch_id, exc)
        return JsonResponse(
            answer.body, status=415 if exc.code == "unsupported-media-type" else answer.status
        )
    try:
        answer = intake.receive(head_end, batch, transport="rest")
    except (StoreUnavailableError, DatabaseError) as exc:
        log.warning("AMI batch %s of %s not stored: %s", batch.batch_id, head_end.name, exc)
        return _unavailable(batch.batch_id)
    return JsonResponse(answer.body, status=answer.status)
