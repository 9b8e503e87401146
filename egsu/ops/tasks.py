"""The operations app's periodic jobs: the scheduled backup (and its retention) and retention of data."""

from __future__ import annotations

from datetime import timedelta

from egsu.jobs.registry import job
from egsu.jobs.runner import progress


@job(max_attempts=2, retry_after=timedelta(minutes=10))
def backup() -> dict:
    """DIG-13/DIG-27: a backup into EGSU_BACKUP_DIR; only the newest EGSU_BACKUP_KEEP are kept."""
    from egsu.ops.backup import scheduled_backup

    return scheduled_backup(source="periodic job ops.backup", progress=progress)


@job()
def purge_expired() -> dict:
    """Exports, AMI batch records, readings and claims past their retention (each refuses less than its
    minimum), and the arrivals' period counts past their use."""
    from egsu.ops.retention import purge_expired as purge

    return purge(source="periodic job ops.retention", progress=progress)
