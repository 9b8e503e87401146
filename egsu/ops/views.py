"""/healthz (the process answers), /readyz (every part it needs, each named), /metrics (Prometheus)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from egsu.access.roles import Module
from egsu.ops import checks, metrics


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Alive: the process answers. No database, so that a load balancer never restarts a server for it."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to take traffic: 200 when every check passes (warnings included), 503 when one fails."""
    results = checks.run_all()
    ready = checks.ready(results)
    body = {"ready": ready, "checks": [r.as_dict() for r in results]}
    return JsonResponse(body, status=200 if ready else 503)


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.CONFIG.metrics_token
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode())
    scope = getattr(request, "scope", None)
    return bool(request.user.is_authenticated and scope is not None and scope.has(Module.OPERATIONS))


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; for a bearer token (EGSU_METRICS_TOKEN) or an operator signed in."""
    if not _may_scrape(request):
        response = HttpResponse("metrics need a bearer token or an operator's login\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="egsu-metrics"'
        return response
    from prometheus_client import CONTENT_TYPE_LATEST

    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
