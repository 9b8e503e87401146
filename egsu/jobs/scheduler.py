"""Queue each periodic job once per period, however many schedulers run (on however many servers).

Each due period is claimed by inserting (name, period start) under a unique constraint, in the
same transaction as the job it queues: the scheduler that inserts first queues the job, every
other one gets an IntegrityError and moves on. A period missed while no scheduler ran is not
replayed one by one: the job runs once for the current period (jobs look at the state, not at
the clock: a purge removes whatever is past retention then).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from egsu.jobs.models import PeriodicRun
from egsu.jobs.registry import Periodic
from egsu_core.clock import utcnow

log = logging.getLogger(__name__)


def schedule_due(schedule: list[Periodic], *, by: str = "", now: datetime | None = None) -> list[PeriodicRun]:
    """Queue every periodic job whose current period has no run yet; return the runs this call made."""
    now = now or utcnow()
    made = []
    for entry in schedule:
        start = entry.schedule.period_start(now)
        if PeriodicRun.objects.filter(name=entry.name, period_start=start).exists():
            continue  # a read first: the common case takes no write lock
        run = _claim_period(entry, start, by, now)
        if run is not None:
            made.append(run)
    return made


def _claim_period(entry: Periodic, start: datetime, by: str, now: datetime) -> PeriodicRun | None:
    kwargs = dict(entry.kwargs)
    if entry.with_period:
        kwargs["period_start"] = start.isoformat()
    try:
        with transaction.atomic():
            run = PeriodicRun.objects.create(name=entry.name, period_start=start, scheduled_at=now,
                                             scheduled_by=by[:80])  # fmt: skip
            result = entry.resolve().enqueue(**kwargs)
            PeriodicRun.objects.filter(pk=run.pk).update(job_id=int(result.id))
    except IntegrityError:
        return None  # another scheduler queued this period first
    log.info("periodic job %s queued for the period from %s", entry.name, start.isoformat())
    return run


def seconds_to_next(schedule: list[Periodic], now: datetime | None = None, cap: float = 30.0) -> float:
    """How long a scheduler may sleep before some period starts (at most `cap`)."""
    now = now or utcnow()
    if not schedule:
        return cap
    soonest = min(entry.schedule.next_start(now) for entry in schedule)
    return max(0.05, min(cap, (soonest - now) / timedelta(seconds=1)))
