"""Telling people about alarms by e-mail (issue 14 item 4, AMI-13, MON-05).

Who: users with an active subscription whose scope (egsu.access.scope.alarms) sees the alarm, at
or above their chosen severity, of their chosen subjects or regions (none chosen: all in scope).
How: at once (one message per alarm state) or in a daily digest. In the reader's language,
through the outbox (egsu.mail), which retries failed deliveries and shows them to the operator.
Nothing is sent twice for one alarm state: the outbox's dedupe key is the alarm and its history
entry (`alarm:<id>:<entry id>`), the digest's is the user and the day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import formats
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.alarms.models import Alarm, AlarmEntry, Subscription, SystemWindow
from egsu.mail.outbox import send
from egsu_core.clock import astana_midnight
from egsu_core.vocabulary import Severity

# What is worth an e-mail at once: a new look is needed (raised, reopened, worse) or it is over.
NOTIFIED_ACTIONS = frozenset({"raised", "reopened", "escalated", "closed"})


def wants(subscription: Subscription, alarm: Alarm) -> bool:
    """The subscription's own choices (the gate is checked separately)."""
    if not subscription.active or Severity(alarm.severity).rank < Severity(subscription.severity).rank:
        return False
    subjects = {s.pk for s in subscription.subjects.all()}
    if subjects and alarm.subject_id not in subjects:
        return False
    return not subscription.regions or alarm.region in subscription.regions


def recipients(alarm: Alarm, delivery: str = Subscription.Delivery.IMMEDIATE) -> list:
    """Users to tell about this alarm by `delivery`."""
    found = []
    for subscription in (
        Subscription.objects.filter(active=True, delivery=delivery, user__is_active=True)
        .select_related("user__profile")
        .prefetch_related("subjects")
    ):
        user = subscription.user
        if not user.email or not wants(subscription, alarm):
            continue
        if gate.alarms(gate.scope_for(user)).filter(pk=alarm.pk).exists():
            found.append(user)
    return found


def site_url() -> str:
    """The address links in e-mails start with (EGSU_SITE_URL); a path alone when it is not set."""
    return getattr(settings, "EGSU_SITE_URL", "").rstrip("/")


def notify(alarm_id: int, entry_id: int) -> int:
    """Mail every immediate subscriber about one alarm state; returns the number of messages queued."""
    entry = AlarmEntry.objects.select_related("alarm__subject", "alarm__point").filter(pk=entry_id).first()
    if entry is None or entry.alarm_id != alarm_id or entry.action not in NOTIFIED_ACTIONS:
        return 0
    alarm = entry.alarm
    sent = 0
    for user in recipients(alarm):
        send(
            user, _("EGSU alarm: %(title)s (%(state)s)"), template="alarms/mail/alarm.txt",
            context={"alarm": alarm, "entry": entry, "title": _(alarm.title),  # noqa: INT001 - a catalogue phrase
                     "state": dict(AlarmEntry.Action.choices)[entry.action],
                     "link": site_url() + f"/cabinet/alarms/{alarm.pk}/"},
            dedupe_key=f"alarm:{alarm.pk}:{entry.pk}",
        )  # fmt: skip
        sent += 1
    return sent


def digest(day: date) -> int:
    """The daily digest of Astana day `day`: every alarm raised, reopened or still open, per user."""
    start, end = astana_midnight(day), astana_midnight(day + timedelta(days=1))
    sent = 0
    for subscription in (
        Subscription.objects.filter(active=True, delivery=Subscription.Delivery.DIGEST, user__is_active=True)
        .select_related("user__profile")
        .prefetch_related("subjects")
    ):
        user = subscription.user
        if not user.email:
            continue
        seen = gate.alarms(gate.scope_for(user)).filter(first_seen__lt=end).exclude(closed_at__lt=start)
        alarms = sorted(
            (
                a
                for a in seen.select_related("subject", "point").order_by("-last_seen")
                if wants(subscription, a)
            ),
            key=lambda a: -Severity(a.severity).rank,
        )  # worst first, newest first within a severity
        if not alarms:
            continue
        send(
            user, _("EGSU alarms of %(day)s: %(count)s"), template="alarms/mail/digest.txt",
            context={"alarms": alarms, "day": _short_date(day), "count": len(alarms), "link": site_url() + "/cabinet/alarms/"},
            dedupe_key=f"alarm-digest:{day.isoformat()}",
        )  # fmt: skip
        Subscription.objects.filter(pk=subscription.pk).update(digest_sent_for=day)
        sent += 1
    return sent


def _short_date(day: date):
    """The day in the reader's format, decided when the message is rendered in the reader's language."""
    return lazy(lambda: formats.date_format(day, "SHORT_DATE_FORMAT"), str)()


def announce_window(window: SystemWindow, now: datetime) -> int:
    """Tell every connected subject (its contact e-mail) about the System's maintenance window."""
    from egsu.ami.models import HeadEndSystem
    from egsu.registry.models import ConnectedSystem, Subject

    connected = set(ConnectedSystem.objects.values_list("subject_id", flat=True)) | set(
        HeadEndSystem.objects.values_list("subject_id", flat=True)
    )
    sent = 0
    for subject in Subject.objects.filter(pk__in=connected).exclude(email=""):
        send(
            subject.email, _("EGSU maintenance window: %(start)s – %(end)s"),
            template="alarms/mail/window.txt", language=settings.LANGUAGE_CODE,
            context={"window": window, "start": window.starts_at, "end": window.ends_at, "subject": subject},
            dedupe_key=f"system-window:{window.pk}",
        )  # fmt: skip
        sent += 1
    SystemWindow.objects.filter(pk=window.pk).update(announced_at=now)
    return sent


def upcoming_windows(now: datetime) -> list[SystemWindow]:
    return list(SystemWindow.objects.filter(ends_at__gt=now).order_by("starts_at")[:3])
