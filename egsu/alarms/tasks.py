"""Alarm jobs: the periodic rules (missing data; verification dates are the schemes app's metrology watch), the notifications and the
urgent reports a critical alarm starts — all in the worker, never inside a request."""

from __future__ import annotations

from datetime import date, datetime

from egsu.alarms import notify, sources
from egsu.alarms.models import Alarm, SystemWindow
from egsu.jobs.registry import job
from egsu_core.clock import utcnow


@job()
def evaluate_missing_data() -> dict:
    """INT-10: points and subjects owing data past the grace time (every 15 minutes)."""
    return sources.evaluate_missing_data()


@job(queue="mail")
def notify_alarm(alarm_id: int, entry_id: int) -> int:
    return notify.notify(alarm_id, entry_id)


@job(queue="mail")
def daily_digest(period_start: str) -> int:
    """Yesterday's alarms to those who asked for a digest (the schedule passes the period it runs for)."""
    from egsu_core.clock import astana_date

    start = datetime.fromisoformat(period_start)
    return notify.digest(date.fromordinal(astana_date(start).toordinal() - 1))


@job()
def critical_alarm_reports(alarm_id: int) -> int:
    """ANA-07: a critical alarm makes urgent reports at once (egsu.reporting's hook)."""
    from egsu.reporting.services import on_critical_alarm

    alarm = Alarm.objects.select_related("subject").filter(pk=alarm_id).first()
    if alarm is None:
        return 0
    made = on_critical_alarm(
        alarm.title, subject_bin=alarm.subject.bin if alarm.subject else "", region=alarm.region,
        energy=alarm.energy,
    )  # fmt: skip
    return len(made)


@job(queue="mail")
def announce_window(window_id: int) -> int:
    window = SystemWindow.objects.filter(pk=window_id, announced_at__isnull=True).first()
    return notify.announce_window(window, utcnow()) if window is not None else 0
