"""The gateway endpoint /shep/SyncChannel: thin HTTP edge over egsu.intake.services."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt

from egsu.intake import services
from egsu_core.shep.contract import schema_bytes, wsdl_bytes

XML = "text/xml; charset=utf-8"


def _client_addr(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _read_body(request: HttpRequest, limit: int) -> tuple[bytes, bool]:
    """Read at most limit+1 bytes without trusting Content-Length; report whether the body was too large."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        if int(declared) > limit:
            return b"", True  # INT-07: refuse before reading a byte of it
    except ValueError:
        pass
    body = request.read(limit + 1)
    if len(body) > limit:
        return b"", True
    return body, False


@csrf_exempt
def sync_channel(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if "wsdl" in {k.lower() for k in request.GET}:
            endpoint = request.build_absolute_uri(request.path)
            return HttpResponse(wsdl_bytes(endpoint, endpoint), content_type=XML)
        return HttpResponseNotAllowed(["POST"], "POST a SOAP 1.1 SendMessage here; the contract is at ?wsdl")
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    body, oversized = _read_body(request, settings.CONFIG.max_message_bytes)
    answer = services.receive(body, remote_addr=_client_addr(request), oversized=oversized)
    response = HttpResponse(answer.body, status=answer.http_status, content_type=XML)
    if answer.http_status == 503:
        response["Retry-After"] = "60"  # our signing key failed: nothing unsigned is sent (App.1 §51)
    return response


def sync_channel_schema(request: HttpRequest, name: str) -> HttpResponse:
    data = schema_bytes(name)
    if data is None:
        return HttpResponseNotFound("no such schema")
    return HttpResponse(data, content_type=XML)
