"""Background work of the reports app (django-tasks; in-process without a broker)."""

from __future__ import annotations

from django_tasks import task

from egsu.reports import services


@task()
def run_export_job(job_id: int) -> str:
    """Thin and idempotent: takes an id, the service does the work and records progress."""
    return services.run_export(job_id).status
