"""The monthly feedback summary (periodic, daily: makes last month's once it is over; idempotent)."""

from __future__ import annotations

from datetime import datetime, timedelta

from egsu.feedback import services
from egsu.jobs.registry import job
from egsu.reporting.definitions import month_start
from egsu_core.clock import astana_date, utcnow


@job(max_attempts=3)
def monthly_summary(period_start: str | None = None) -> int:
    today = astana_date(datetime.fromisoformat(period_start) if period_start else utcnow())
    last_month = month_start(month_start(today) - timedelta(days=1))
    return services.summarise(last_month).total
