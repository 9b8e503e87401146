"""The alarms export: the list as filtered, every row, with the header block of every export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.utils.translation import gettext as _

from egsu.access.scope import Scope
from egsu.alarms.filters import AlarmFilter
from egsu.alarms.sources import SOURCE_LABELS
from egsu.reports.tables import Column, ExportTable, _form_filters, _header, as_query
from egsu_core.clock import utcnow


def alarms_table(scope: Scope, user, params: dict, at: datetime | None = None) -> ExportTable:
    found = AlarmFilter.for_scope(scope, as_query(params))
    alarms = found.alarms()
    filters = _form_filters(found.form) if found.is_bound and found.is_valid() else {}

    def cells() -> Iterator[tuple]:
        for a in alarms.iterator(chunk_size=500):
            yield (
                a.pk, a.get_severity_display(), a.get_state_display(), _(a.title),
                _(SOURCE_LABELS.get(a.source, a.source)),
                f"{a.subject.name} ({a.subject.bin})" if a.subject else "", a.point.name if a.point else "",
                a.region, a.first_seen, a.last_seen, a.count, a.acknowledged_at,
                a.acknowledged_by.get_username() if a.acknowledged_by else "", a.closed_at, a.comment,
            )  # fmt: skip

    alarms = alarms.select_related("subject", "point", "acknowledged_by")
    return ExportTable(
        title=_("Alarms"),
        header=_header(user, scope, at or utcnow(), filters),
        columns=[
            Column(_("Number"), numeric=True, width=0.5),
            Column(_("Severity"), width=0.7),
            Column(_("State"), width=0.7),
            Column(_("Alarm"), width=1.6),
            Column(_("Source")),
            Column(_("Subject"), width=1.6),
            Column(_("Metering point")),
            Column(_("Region")),
            Column(_("First seen")),
            Column(_("Last seen")),
            Column(_("Occurrences"), numeric=True, width=0.5),
            Column(_("Acknowledged")),
            Column(_("Acknowledged by")),
            Column(_("Closed")),
            Column(_("Comment"), width=1.5),
        ],  # fmt: skip
        rows=cells,
        row_count=alarms.count(),
    )
