"""/open/: the public page of open data (no sign-in, kk/ru/en): data sets, charts, the latest month's cells."""

from __future__ import annotations

from collections import defaultdict

from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from egsu.choices import label
from egsu.opendata import services
from egsu.opendata.datasets import DATASETS


def _charts(code: str, cells) -> list[dict]:
    """Per energy and quantity: the national line over the months, and the regions of the latest month."""
    national: dict[tuple, dict] = defaultdict(lambda: {"x": [], "y": []})
    latest = max((c.period for c in cells), default=None)
    regions: dict[tuple, dict] = defaultdict(lambda: {"x": [], "y": []})
    for cell in cells:
        key = (cell.energy, cell.product, cell.quantity, cell.unit)
        if cell.level == "national" and cell.value is not None:
            national[key]["x"].append(f"{cell.period:%Y-%m}")
            national[key]["y"].append(float(cell.value))
        if cell.level == "regional" and cell.period == latest and cell.value is not None:
            regions[key]["x"].append(cell.region)
            regions[key]["y"].append(float(cell.value))
    charts = []
    for n, key in enumerate(sorted(set(national) | set(regions))):
        energy, product, quantity, unit = key
        charts.append({"id": f"{code}-{n}", "title": " · ".join(filter(None, [label(energy), product, quantity])),
                       "unit": unit, "national": national.get(key), "regions": regions.get(key)})  # fmt: skip
    return charts


@require_GET
def index(request):
    language = translation.get_language() or "kk"
    shown = []
    for code, dataset in DATASETS.items():
        publication = services.current(code)
        cells = list(publication.cells.all()) if publication else []
        latest = max((c.period for c in cells), default=None)
        shown.append({
            "code": code, "name": dataset.label(language), "description": dataset.text(language),
            "publication": publication, "charts": _charts(code, cells),
            "latest": latest, "latest_cells": [c for c in cells if c.period == latest],
        })  # fmt: skip
    charts = [chart for d in shown for chart in d["charts"]]
    return render(request, "opendata/index.html", {"datasets": shown, "charts": charts})
