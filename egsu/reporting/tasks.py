"""Jobs of the reports: plan the regular ones (periodic) and build one report (per report, idempotent)."""

from __future__ import annotations

from datetime import datetime

from egsu.jobs.registry import job
from egsu.reporting import services
from egsu_core.clock import astana_date, utcnow


@job(max_attempts=3)
def build_regular_reports(period_start: str | None = None) -> int:
    """Queue the reports of every period that ended before today (Astana); each is built by its own job."""
    moment = datetime.fromisoformat(period_start) if period_start else utcnow()
    return len(services.plan_regular(astana_date(moment)))


@job(max_attempts=3)
def build_report(report_id: int) -> int:
    report = services.build(report_id)
    return len(report.figures.get("sections", []))
