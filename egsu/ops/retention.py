"""Retention by itself (DIG-30, issue 17 item 4) for what the journal and audit jobs do not cover:
export files, records of AMI batches, readings per the operator's policy, the claims of
ClickHouse writes (ADR 0013: a value whose claim was pruned is answered from the store), and the
arrivals' period counts once no summary reads them.

Journal (INT-36, 3 years) and audit trail (DIG-21, 12 months) have their own jobs
(`journal.retention`, `audit.retention`); jobs, mail and information-request packages too
(`jobs.prune`, `mail.prune`, `inforequests.expire`). Each purge here refuses a period shorter than
its minimum (egsu.conf: also refused at start) and records itself in the audit trail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from egsu import conf
from egsu.access.audit import Event, audit
from egsu_core.clock import astana_midnight, format_astana, to_astana, utcnow

MINIMUM_DAYS = {
    "exports": conf.EXPORTS_MIN_RETENTION_DAYS,
    "ami_batches": conf.AMI_BATCHES_MIN_RETENTION_DAYS,
    "readings": conf.READINGS_MIN_RETENTION_DAYS,
    "readings_claims": conf.READINGS_CLAIMS_MIN_RETENTION_DAYS,
}


def _check(kind: str, days: int) -> None:
    if days < MINIMUM_DAYS[kind]:
        raise ValueError(f"{kind} are kept at least {MINIMUM_DAYS[kind]} days; {days} was asked")


def _audited(kind: str, deleted: int, days: int, cutoff: datetime, source: str, **extra) -> int:
    audit(
        Event.RETENTION_PURGED, object_type=f"ops.{kind}", source=source,
        summary=f"{deleted} {kind.replace('_', ' ')} before {format_astana(cutoff)} deleted",
        after={"kind": kind, "deleted": deleted, "retention_days": days, **extra},
    )  # fmt: skip
    return deleted


def purge_exports(*, days: int | None = None, now: datetime | None = None, source: str) -> int:
    """Finished export jobs older than `days` and their files."""
    from egsu.reports.models import ExportJob
    from egsu.reports.services import job_path

    days = days if days is not None else settings.CONFIG.exports_retention_days
    _check("exports", days)
    cutoff = (now or utcnow()) - timedelta(days=days)
    old = ExportJob.objects.filter(created_at__lt=cutoff).exclude(status__in=["QUEUED", "RUNNING"])
    files = 0
    for job in old.only("pk", "file_name"):
        if job.file_name:
            path = job_path(job)
            if path.exists():
                path.unlink()
                files += 1
    deleted, _ = old.delete()
    return _audited("exports", deleted, days, cutoff, source, files=files)


def purge_ami_batches(*, days: int | None = None, now: datetime | None = None, source: str) -> int:
    """Records of AMI batches (id, digest, answer) older than `days`; a batch id sent again after that
    is stored again, and its values come back DUPLICATE (the store is idempotent)."""
    from egsu.ami.models import AmiBatch

    days = days if days is not None else settings.CONFIG.ami_batches_retention_days
    _check("ami_batches", days)
    cutoff = (now or utcnow()) - timedelta(days=days)
    with transaction.atomic():
        deleted, _ = AmiBatch.objects.filter(received_at__lt=cutoff).delete()
    return _audited("ami_batches", deleted, days, cutoff, source)


def readings_cutoff(days: int, now: datetime) -> datetime:
    """The Astana midnight `days` before now: a day of values (and its rollup) goes whole."""
    return astana_midnight((to_astana(now) - timedelta(days=days)).date())


def purge_readings(*, days: int | None = None, now: datetime | None = None, source: str) -> int | None:
    """Values whose period starts before the cutoff, every revision, with the rollup's days (ClickHouse);
    None when the policy keeps readings for ever (EGSU_READINGS_RETENTION_DAYS unset or 0)."""
    from egsu.readings.services import get_store

    days = days if days is not None else settings.CONFIG.readings_retention_days
    if not days:
        return None
    _check("readings", days)
    cutoff = readings_cutoff(days, now or utcnow())
    deleted = get_store().purge_before(cutoff)
    return _audited("readings", deleted, days, cutoff, source, backend=settings.READINGS_BACKEND)


def purge_readings_claims(
    *, days: int | None = None, now: datetime | None = None, source: str, batch: int = 10_000, progress=None
) -> int | None:
    """Claims of ClickHouse writes for slots starting before the cutoff (an Astana midnight), in
    batches (egsu.readings.claims.Claims.prune); None when readings are not claimed (SQL, chDB) or
    the policy keeps claims for ever (EGSU_READINGS_CLAIMS_RETENTION_DAYS=0). A value for a slot
    whose claim is gone is answered from the store, so no period breaks exactly-once; the minimum
    keeps the writes of the last days from asking."""
    from egsu.readings.services import get_store

    days = days if days is not None else settings.CONFIG.readings_claims_retention_days
    if not days:
        return None
    _check("readings_claims", days)
    claims = getattr(get_store(), "claims", None)
    if claims is None:
        return None
    now = now or utcnow()
    cutoff = readings_cutoff(days, now)
    pruned = claims.prune(int(cutoff.timestamp()), batch=batch, now=now.timestamp(), progress=progress)
    extra = {"horizon": format_astana(datetime.fromtimestamp(pruned.horizon, UTC))}
    if pruned.held_back_to is not None:  # an open intent holds older slots: the next run takes them
        extra["held_back_to"] = format_astana(datetime.fromtimestamp(pruned.held_back_to, UTC))
    return _audited("readings_claims", pruned.deleted, days, cutoff, source, **extra)


def purge_slot_periods(*, now: datetime | None = None, source: str) -> int:
    """The subjects' period counts (monitoring.SubjectPeriod) a day after their slots' grace ended: they
    are read only while a slot is within its grace, so this is housekeeping, not a policy."""
    from egsu.monitoring.expectations import grace
    from egsu.monitoring.models import SubjectPeriod

    cutoff = (now or utcnow()) - grace() - timedelta(days=1)
    with transaction.atomic():  # the period bounds the due time: the index that leads with it serves
        deleted, _ = SubjectPeriod.objects.filter(period_start__lt=cutoff, due_at__lt=cutoff).delete()
    return _audited("slot_periods", deleted, 1, cutoff, source)


def purge_expired(*, source: str, progress=None) -> dict:
    """Every data class of this module, per its configured period."""
    return {
        "exports": purge_exports(source=source),
        "ami_batches": purge_ami_batches(source=source),
        "slot_periods": purge_slot_periods(source=source),
        "readings": purge_readings(source=source),
        "readings_claims": purge_readings_claims(
            source=source,
            progress=None if progress is None else (lambda done: progress(done, None, "claims")),
        ),
    }
