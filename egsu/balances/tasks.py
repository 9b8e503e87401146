"""The daily balance check (schedule: balances.daily): yesterday's balances, alarms "balance"."""

from __future__ import annotations

from egsu.balances import services
from egsu.jobs.registry import job


@job(max_attempts=2)
def daily_balances() -> dict:
    return services.check_day()
