"""The audit trail's periodic retention job: at least 12 months kept, older events removed, audited."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from egsu.access import audit as trail
from egsu.access.audit import Event
from egsu.jobs.registry import job
from egsu_core.clock import format_astana, utcnow


def purge_and_audit(*, older_than: timedelta | None = None, source: str, actor=None) -> int:
    """Purge past retention (refused below 12 months) and record the purge itself in the trail."""
    now = utcnow()
    retention = older_than or timedelta(days=settings.CONFIG.audit_retention_days)
    count = trail.purge(older_than=retention, now=now)  # ValueError below the minimum: nothing is deleted
    trail.audit(
        Event.AUDIT_PURGED, actor=actor, object_type="access.auditevent", source=source,
        summary=f"{count} audit events before {format_astana(now - retention)} deleted",
        after={"deleted": count, "retention_days": retention.days},
    )  # fmt: skip
    return count


@job()
def purge_expired() -> int:
    return purge_and_audit(source="periodic job audit.retention")
