"""The gateway endpoint /shep/SyncChannel: thin HTTP edge over egsu.intake.services."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt

from egsu.intake import services
from egsu.request_body import read_limited
from egsu_core.shep.contract import schema_bytes, wsdl_bytes

XML = "text/xml; charset=utf-8"


def _client_addr(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


@csrf_exempt
def sync_channel(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if "wsdl" in {k.lower() for k in request.GET}:
            endpoint = request.build_absolute_uri(request.path)
            return HttpResponse(wsdl_bytes(endpoint, endpoint), content_type=XML)
        return HttpResponseNotAllowed(["POST"], "POST a SOAP 1.1 SendMessage here; the contract is at ?wsdl")
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    body = services.Body(read_limited(request, settings.CONFIG.max_message_bytes))
    answer = services.receive(body, remote_addr=_client_addr(request), oversized=body.data is None)
    response = HttpResponse(answer.body, status=answer.http_status, content_type=XML)
    if answer.http_status == 503:
        response["Retry-After"] = "60"  # our signing key failed: nothing unsigned is sent (App.1 §51)
    return response


def sync_channel_schema(request: HttpRequest, name: str) -> HttpResponse:
    data = schema_bytes(name)
    if data is None:
        return HttpResponseNotFound("no such schema")
    return HttpResponse(data, content_type=XML)
