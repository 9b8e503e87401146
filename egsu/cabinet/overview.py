"""What the overview says at a glance (MON-01/02): per energy, today's arrivals, who is late, meter
alarms, and the last day's totals; each a link to its page. On an empty system, the first steps.

Everything through the gate and the readings store; counts are cheap (the arrivals rollups, one
aggregate per energy), so the page stays fast on a national system.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from egsu.access import scope as gate
from egsu.access.roles import Module
from egsu.access.scope import Scope
from egsu.cabinet.views_totals import DEFAULT_INTERVAL, daily_totals
from egsu.choices import label
from egsu.monitoring.summaries import arrivals_summary
from egsu.points.filters import ALARM_DAYS
from egsu_core.clock import astana_date, utcnow


@dataclass
class EnergyCard:
    energy: str
    label: str
    points: int
    completeness: float | None = None
    expected: int = 0
    arrived: int = 0
    late_subjects: int = 0
    meter_alarms: int = 0
    totals: list[dict] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)


def energy_cards(scope: Scope) -> list[EnergyCard]:
    today = astana_date(utcnow())
    yesterday = today - timedelta(days=1)
    cards = []
    for energy in gate.energies(scope):
        points = gate.points(scope).filter(energy=energy)
        card = EnergyCard(energy, label(energy), points.count())
        card.links["points"] = f"{reverse('cabinet:points')}?{urlencode({'energy': energy})}"
        if scope.has(Module.MONITORING):
            period = {"start": today.isoformat(), "end": today.isoformat(), "energy": energy}
            rows = arrivals_summary(scope, start=today, end=today, group_by="subject", energy=energy)
            card.expected = sum(r.expected for r in rows)
            card.arrived = sum(r.arrived for r in rows)
            card.completeness = min(100.0, 100.0 * card.arrived / card.expected) if card.expected else None
            card.late_subjects = sum(1 for r in rows if r.missing or r.late)
            card.links["arrivals"] = f"{reverse('monitoring:arrivals')}?{urlencode(period)}"
        if energy != "oil_gas":
            from egsu.ami.models import MeterEvent

            card.meter_alarms = MeterEvent.objects.filter(
                alarm=True,
                meter__metering_point__in=points,
                occurred_at__gte=utcnow() - timedelta(days=ALARM_DAYS),
            ).count()
            card.links["alarms"] = (
                f"{reverse('cabinet:points')}?{urlencode({'energy': energy, 'alarms': 'recent'})}"
            )
        totals = daily_totals(
            scope, start=yesterday, end=yesterday, energy=energy, interval=DEFAULT_INTERVAL.get(energy, "")
        )
        card.totals = [{"quantity": r.quantity, "unit": r.unit, "total": r.total} for r in totals]
        card.links["totals"] = (
            f"{reverse('cabinet:totals')}?{urlencode({'energy': energy, 'start': yesterday, 'end': yesterday})}"
        )
        cards.append(card)
    return cards


def first_steps(scope: Scope) -> list[dict]:
    """On a system with nothing registered, what an administrator does first, in order, each a link."""
    if not scope.can_edit:
        return []
    from egsu.ami.models import HeadEndSystem
    from egsu.registry.models import ConnectedSystem, Subject

    if Subject.objects.exists() and (gate.points(scope).exists() or HeadEndSystem.objects.exists()):
        return []
    trust = bool(getattr(settings, "CONFIG", None) and settings.CONFIG.trust_roots)
    return [
        {"done": Subject.objects.exists(), "text": _("Import the registry workbook, or add the subjects, their facilities and devices."),
         "url": reverse("admin:registry_subject_changelist")},
        {"done": ConnectedSystem.objects.exists(), "text": _("Connect each subject's system to the gateway (sender ID and password)."),
         "url": reverse("admin:registry_connectedsystem_changelist")},
        {"done": HeadEndSystem.objects.exists(), "text": _("Register the metering head-ends and their meters."),
         "url": reverse("admin:ami_headendsystem_changelist")},
        {"done": trust, "text": _("Configure the NCA trust roots (EGSU_TRUST_ROOTS); until then the stand trusts its own test CA."),
         "url": ""},
        {"done": False, "text": _("Create the users and give each a role and its subjects."), "url": reverse("access:users")},
    ]  # fmt: skip


def open_alarms_by_severity(scope: Scope) -> list[dict]:
    """Active alarms (open or acknowledged) per severity, worst first, each a link to the filtered list."""
    from django.db.models import Count

    from egsu.alarms.models import ACTIVE_STATES
    from egsu_core.vocabulary import Severity

    counts = dict(
        gate.alarms(scope)
        .filter(state__in=ACTIVE_STATES)
        .order_by()
        .values_list("severity")
        .annotate(n=Count("pk"))
    )
    base = reverse("alarms:list")
    return [
        {"severity": s.value, "label": label(s), "count": counts.get(s.value, 0),
         "url": f"{base}?{urlencode({'state': 'active', 'severity': s.value})}"}
        for s in reversed(list(Severity))
    ]  # fmt: skip


def system_windows():
    """The System's own maintenance windows not yet over (INT-43..45), for the band on the overview."""
    from egsu.alarms.notify import upcoming_windows

    return upcoming_windows(utcnow())
