"""The /api/v1/ NinjaAPI: its routers, mounted in egsu/urls.py (see egsu/api/__init__.py)."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.errors import ValidationError

from egsu.api.auth import TokenBearer

# prefix → router (an import path: the app that owns the router keeps it).
ROUTERS: tuple[tuple[str, str], ...] = (
    ("/points", "egsu.api.points.router"),
    ("/aggregates", "egsu.api.aggregates.router"),
    ("/arrivals", "egsu.api.arrivals.router"),
    ("", "egsu.alarms.api.router"),  # /alarms (token or session) and /notices (the agent's credentials)
)

api = NinjaAPI(
    title="EGSU read API",
    version="1",
    description="Metering points, latest values, series, aggregates and arrivals for state bodies and "
    "integrators. Authorization: Bearer <personal API token> (made in the cabinet under API tokens); a "
    "token sees exactly what its user sees. JSON answers are pages {data, next}: pass next as cursor. "
    "format=csv (or Accept: text/csv) streams the whole answer as CSV, format=ndjson (or Accept: "
    "application/x-ndjson) as one JSON object a line.",
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
    auth=TokenBearer(),
)
for prefix, router in ROUTERS:
    api.add_router(prefix, router)


@api.exception_handler(ValidationError)
def _malformed(request, exc: ValidationError):
    """A malformed parameter is a 400, like every other question the API cannot answer."""
    return api.create_response(request, {"detail": exc.errors}, status=400)
