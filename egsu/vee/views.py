"""Data quality in the cabinet: the findings (filterable) with the quality score per subject and day."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext

from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.cabinet.views_readings import DATA_MODULES, query_without_page
from egsu.vee.catalogue import SPECS, Code
from egsu.vee.filters import FindingFilter

PAGE_SIZE = 50
SCORES_SHOWN = 50  # the newest scores (subject, day)


def rule_label(code: str) -> str:
    try:
        return gettext(SPECS[Code(code)].label)
    except ValueError:
        return code


def describe(findings) -> list[dict]:
    """Findings with their rule's words and the values they concern (the point page's link)."""
    return [{"finding": f, "rule": rule_label(f.rule), "detail": _detail(f.detail)} for f in findings]


def _detail(detail: dict) -> str:
    return ", ".join(f"{name} {value}" for name, value in sorted(detail.items()))


@cabinet_view(any_of=DATA_MODULES)
def finding_list(request):
    scope = request.scope
    found = FindingFilter.for_scope(scope, request.GET)
    page = Paginator(found.findings(), PAGE_SIZE).get_page(request.GET.get("page"))
    scores = gate.quality_days(scope).select_related("subject").order_by("-day", "subject__name")
    if subject := (found.form.cleaned_data.get("subject") if found.is_bound and found.is_valid() else None):
        scores = scores.filter(subject__bin=subject)
    return render(request, "vee/findings.html", {
        "filter": found, "page": page, "items": describe(page.object_list), "query": query_without_page(request),
        "scores": scores[:SCORES_SHOWN], "rules": [(code.value, gettext(spec.label), gettext(spec.description))
                                          for code, spec in SPECS.items()],
    })  # fmt: skip


def latest_score(scope) -> dict | None:
    """The overview's line: the newest day's quality score over the subjects in scope (weighted by values)."""
    from django.db.models import Sum

    days = gate.quality_days(scope)
    newest = days.order_by("-day").values_list("day", flat=True).first()
    if newest is None:
        return None
    sums = days.filter(day=newest).aggregate(
        checked=Sum("checked"), flagged=Sum("flagged"), findings=Sum("findings")
    )
    checked = sums["checked"] or 0
    score = 100.0 * (checked - (sums["flagged"] or 0)) / checked if checked else 100.0
    return {"day": newest, "score": score, "findings": sums["findings"] or 0}
