"""Cabinet pages that belong to no one module: the overview, and the locally served chart library."""

from __future__ import annotations

from pathlib import Path

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.roles import Role
from egsu.cabinet import overview
from egsu.vee.views import latest_score


@cabinet_view()
def dashboard(request):
    """The overview: per energy what matters today, each a link; the first steps on an empty system."""
    scope = request.scope
    return render(
        request,
        "cabinet/dashboard.html",
        {
            "cards": overview.energy_cards(scope),
            "steps": overview.first_steps(scope),
            "alarm_counts": overview.open_alarms_by_severity(scope),
            "windows": overview.system_windows(),
            "subjects": gate.subjects(scope).count(),
            "role_label": Role(scope.role).label,
            "quality": latest_score(scope),
        },
    )


@require_GET
@cache_control(public=True, max_age=86400)
def plotly_js(request):
    """The chart library, served from its Python package: no CDN, air-gapped (design.md)."""
    import plotly

    path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    if not path.exists():
        raise Http404("plotly.min.js is not installed")
    return FileResponse(path.open("rb"), content_type="application/javascript")
