"""The read API /api/v1/ for state bodies and integrators, and the personal tokens that open it.

- `v1.py`: the NinjaAPI (Bearer auth, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs with
  assets served locally). `pages.py`: the gate at the door, opaque cursors, JSON pages and CSV, all
  streamed. Routers: `points.py` (points, latest values, series), `aggregates.py`, `arrivals.py`.
- `models.py`, `tokens.py`, `auth.py`, `views.py`: personal API tokens (made, listed and revoked in
  the cabinet at /cabinet/api-tokens/, shown once, stored hashed, audited).

Adding a router from another app is one line in `v1.ROUTERS`, e.g. for alarms:

    ("/alarms", "egsu.alarms.api.router"),

where `egsu/alarms/api.py` defines `router = ninja.Router(tags=["alarms"])` and its operations
begin with `scope = pages.scope_of(request, any_of=(...modules...))`, read through
`egsu.access.scope`, and return `pages.answer(...)` for lists (cursor, JSON or CSV, streamed).
Bearer auth is inherited from the API; the permission-matrix tests are in tests/api/.
"""
