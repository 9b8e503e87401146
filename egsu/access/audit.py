"""Explicit audit calls with typed event names (style.md: no hidden signals for changes).

Kept at least 12 months (DIG event logs; issue 5); `purge` refuses anything shorter.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import Q, QuerySet

from egsu.access.models import AuditEvent
from egsu_core.clock import utcnow

MIN_RETENTION = timedelta(days=366)


class Event(StrEnum):
    SIGN_IN = "auth.sign_in"
    SIGN_IN_FAILED = "auth.sign_in_failed"
    SIGN_IN_LOCKED = "auth.locked"
    SIGN_OUT = "auth.sign_out"
    USER_CREATED = "user.created"
    USER_CHANGED = "user.changed"
    USER_DEACTIVATED = "user.deactivated"
    EXPORT = "data.export"
    CORRECTION_PROPOSED = "correction.proposed"
    CORRECTION_AGREED = "correction.agreed"
    CORRECTION_REFUSED = "correction.refused"
    CORRECTION_APPLIED = "correction.applied"
    REGISTRY_IMPORTED = "registry.imported"
    REGISTRY_CHANGED = "registry.changed"
    CORRECTION_WITHDRAWN = "correction.withdrawn"
    USER_REACTIVATED = "user.reactivated"
    PASSWORD_CHANGED = "user.password_changed"
    PASSWORD_RESET = "user.password_reset"
    AUDIT_PURGED = "audit.purged"
    JOURNAL_PURGED = "journal.purged"
    JOBS_PRUNED = "jobs.pruned"
    JOB_RETRIED = "jobs.retried"
    MAIL_RETRIED = "mail.retried"
    MAIL_PRUNED = "mail.pruned"
    ANSWER_NOT_SIGNED = "signature.answer_not_signed"  # an alarm: the System's signing key failed
    REGISTRY_CREATED = "registry.created"
    REGISTRY_DELETED = "registry.deleted"
    SYSTEM_PASSWORD_CHANGED = "registry.system_password_changed"
    HEAD_END_TOKEN_CHANGED = "registry.head_end_token_changed"
    METER_REGISTERED = "registry.meter_registered"
    FORECAST_TRAINED = "forecast.trained"
    WEATHER_IMPORTED = "weather.imported"
    RECOMMENDATION_DECIDED = "recommendation.decided"
    REPORT_URGENT = "report.urgent"
    REPORT_SUBSCRIBED = "report.subscribed"
    REPORT_UNSUBSCRIBED = "report.unsubscribed"
    OPEN_DATA_PUBLISHED = "opendata.published"
    INFO_REQUEST_FILED = "inforequest.filed"
    INFO_REQUEST_APPROVED = "inforequest.approved"
    INFO_REQUEST_REFUSED = "inforequest.refused"
    INFO_REQUEST_PACKAGE_BUILT = "inforequest.package_built"
    INFO_REQUEST_DOWNLOADED = "inforequest.downloaded"
    FEEDBACK_SENT = "feedback.sent"
    FEEDBACK_ANSWERED = "feedback.answered"
    ALARM_ACKNOWLEDGED = "alarm.acknowledged"
    ALARM_CLOSED = "alarm.closed"
    ALARM_SUBSCRIBED = "alarm.subscribed"
    NOTICE_FILED = "notice.filed"
    NOTICE_WITHDRAWN = "notice.withdrawn"
    BACKUP_MADE = "ops.backup_made"
    BACKUP_RESTORED = "ops.backup_restored"
    BACKUPS_PRUNED = "ops.backups_pruned"
    RETENTION_PURGED = "ops.retention_purged"  # exports, raw AMI batches, readings, claims (issue 17)
    CLAIMS_FILLED = "readings.claims_filled"  # claims made to agree with a ClickHouse store (ADR 0013)
    CLAIMS_RECOVERED = "readings.claims_recovered"  # claimed rows a dead or failed writer left, inserted
    API_TOKEN_CREATED = "api.token_created"
    API_TOKEN_REVOKED = "api.token_revoked"
    # Schemes, metrology, failed devices, obligated objects, gateway connections (issue 16)
    SCHEME_CREATED = "scheme.created"
    SCHEME_EDITED = "scheme.edited"
    SCHEME_NEW_VERSION = "scheme.new_version"
    SCHEME_SUBMITTED = "scheme.submitted"
    SCHEME_TAKEN = "scheme.taken"
    SCHEME_APPROVED = "scheme.approved"
    SCHEME_REFUSED = "scheme.refused"
    DOCUMENT_STORED = "document.stored"
    METROLOGY_CHANGED = "metrology.changed"
    METROLOGY_VERIFIED = "metrology.verified"
    DEVICE_FAILED = "device.failed"
    DEVICE_REPLACED = "device.replaced"
    OBLIGATIONS_IMPORTED = "obligations.imported"
    CONNECTION_FILED = "connection.filed"
    CONNECTION_REFUSED = "connection.refused"
    CONNECTION_TEST_ACCESS = "connection.test_access"
    CONNECTION_ACT_DRAWN = "connection.act_drawn"
    CONNECTION_ACT_SIGNED = "connection.act_signed"
    CONNECTION_LIVE = "connection.live"


def audit(
    event: Event | str,
    *,
    actor=None,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
    request=None,
    source: str = "",
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    return AuditEvent.objects.create(
        occurred_at=utcnow(),
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        event=str(event),
        object_type=object_type,
        object_id=object_id,
        summary=summary[:300],
        before=before,
        after=after,
        remote_addr=(request.META.get("REMOTE_ADDR", "") if request is not None else "")[:64],
        source=source[:120],
    )


def purge(*, older_than: timedelta = MIN_RETENTION, now: datetime | None = None) -> int:
    """Delete audit events older than the retention; never younger than 12 months."""
    if older_than < MIN_RETENTION:
        raise ValueError("audit events are kept at least 12 months")
    cutoff = (now or utcnow()) - older_than
    deleted, _ = AuditEvent.objects.filter(occurred_at__lt=cutoff).delete()
    return deleted


def search(
    events: QuerySet | None = None,
    *,
    event: str = "",
    actor: str = "",
    obj: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet:
    """Filter audit events (the page, its CSV and `egsu audit search` share this).

    `actor` matches the user name (exactly, case-insensitive); `obj` matches the object id, or
    `type:id` / `type` (e.g. `auth.user:5`, `auth.user`); `until` is exclusive.
    """
    events = AuditEvent.objects.all() if events is None else events
    if event:
        events = events.filter(event=event)
    if actor:
        events = events.filter(actor_name__iexact=actor.strip())
    if obj:
        kind, sep, ident = obj.strip().partition(":")
        if sep:
            events = events.filter(object_type=kind, object_id=ident)
        else:
            events = events.filter(Q(object_id=kind) | Q(object_type=kind))
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    return events.order_by("-occurred_at", "-pk")
