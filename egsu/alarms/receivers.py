"""What follows an alarm change, as background jobs queued after the commit (never in the request)."""

from __future__ import annotations

from django.conf import settings
from django.dispatch import receiver

from egsu.alarms.notify import NOTIFIED_ACTIONS
from egsu.alarms.services import alarm_changed
from egsu_core.vocabulary import Severity

URGENT_ACTIONS = frozenset({"raised", "reopened", "escalated"})


@receiver(alarm_changed, dispatch_uid="alarms.follow_up")
def follow_up(sender, alarm, action, entry=None, **kwargs) -> None:
    from egsu.alarms.tasks import critical_alarm_reports, notify_alarm

    if entry is not None and action in NOTIFIED_ACTIONS:
        notify_alarm.enqueue(alarm.pk, entry.pk)
    if (
        action in URGENT_ACTIONS
        and alarm.severity == Severity.CRITICAL
        and getattr(settings, "EGSU_ALARM_URGENT_REPORTS", True)
    ):
        critical_alarm_reports.enqueue(alarm.pk)
