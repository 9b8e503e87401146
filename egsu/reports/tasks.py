"""Background work of the reports app, run by `egsu worker` from the durable queue (egsu/jobs)."""

from __future__ import annotations

from egsu.jobs.registry import job
from egsu.reports import services


@job()
def run_export_job(job_id: int) -> str:
    """Thin and idempotent: takes an id, the service does the work and records progress."""
    return services.run_export(job_id).status
