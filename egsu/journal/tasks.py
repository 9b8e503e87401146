"""The journal's periodic retention job (INT-36): three years kept, older entries removed, audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings

from egsu.access import audit as trail
from egsu.access.audit import Event
from egsu.jobs.registry import job
from egsu.jobs.runner import progress
from egsu.journal import services
from egsu_core.clock import format_astana, utcnow


def purge_and_audit(
    *,
    older_than: timedelta | None = None,
    source: str,
    actor=None,
    on_progress: Callable[[int], None] = progress,
) -> int:
    """Purge past retention (refused below three years, INT-36) and record it in the audit trail."""
    now = utcnow()
    retention = older_than or timedelta(days=settings.CONFIG.journal_retention_days)
    cutoff = services.purge_cutoff(retention, now)  # ValueError below the minimum: nothing is deleted
    count = services.purge(older_than=retention, now=now, progress=on_progress)
    trail.audit(
        Event.JOURNAL_PURGED, actor=actor, object_type="journal.journalentry", source=source,
        summary=f"{count} journal entries before {format_astana(cutoff)} deleted",
        after={"deleted": count, "retention_days": retention.days, "cutoff": cutoff.isoformat()},
    )  # fmt: skip
    return count


@job()
def purge_expired() -> int:
    return purge_and_audit(source="periodic job journal.retention")
