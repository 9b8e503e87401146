"""Recommendations computed from the data, each with its estimated effect (ANA-02, ANA-08, PRC-05).

* peak shift: the national electricity peak hours are the three Astana hours with the highest mean
  load over the last four weeks; a subject whose load in those hours is above its own daily mean
  could move that excess to the three lowest hours — the effect is the hours and the volume a day
  (and a month) that would move;
* equipment outside its normal profile: a meter whose hourly profile over the last week differs
  from the four weeks before by more than `PROFILE_DEVIATION` — the effect is the volume above
  (or below) normal in that week;
* losses above the allowed imbalance: an object whose unmeasured share over the last five weeks
  exceeds its energy's allowed imbalance — the effect is the volume above the allowance.

`recompute()` runs daily: a recommendation that still holds is updated, one that no longer holds
and was not decided is removed. People decide with `decide()` (accepted or dismissed, with a
reason; audited): the decision is kept, and the same key is not offered again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from egsu.access.audit import Event, audit
from egsu.analytics.anomalies import ALLOWED_IMBALANCE
from egsu.analytics.models import Recommendation
from egsu.analytics.profiles import BASELINE, RECENT, label_profiles, object_balances, point_profiles
from egsu.analytics.targets import QUANTITY
from egsu.quantities import unit_of
from egsu_core.clock import utcnow
from egsu_core.vocabulary import METER_ENERGIES, Energy

PEAK_HOURS = 3
MIN_SHIFT_SHARE = 0.01  # a shift below 1 % of the subject's day is not worth a recommendation
PROFILE_DEVIATION = 0.3
Kind = Recommendation.Kind


def _points():
    from egsu.points.models import MeteringPoint

    return list(
        MeteringPoint.objects.filter(active=True, energy__in=list(METER_ENERGIES)).select_related("subject")
    )


def peak_shifts(points, now: datetime, *, store=None) -> list[dict]:
    electricity = [p for p in points if p.energy == Energy.ELECTRICITY]
    labels = {p.store_key: p.subject.bin for p in electricity}
    subjects = {p.subject.bin: p.subject for p in electricity}
    end = now.replace(minute=0, second=0, microsecond=0)
    profiles = label_profiles(
        labels, QUANTITY[Energy.ELECTRICITY], end - timedelta(days=28), end, store=store
    )
    if not profiles:
        return []
    national = [sum(p.recent[h] or 0.0 for p in profiles.values()) for h in range(24)]
    ranked = sorted(range(24), key=lambda h: national[h])
    valley, peak = sorted(ranked[:PEAK_HOURS]), sorted(ranked[-PEAK_HOURS:])
    found = []
    for bin_, profile in sorted(profiles.items()):
        hourly = [v for v in profile.recent if v is not None]
        if len(hourly) < 24:
            continue
        mean = sum(hourly) / 24
        movable = sum(max(0.0, profile.recent[h] - mean) for h in peak)
        day = sum(hourly)
        if day <= 0 or movable < MIN_SHIFT_SHARE * day:
            continue
        subject = subjects[bin_]
        found.append(dict(
            kind=Kind.PEAK_SHIFT, key=f"peak:{bin_}:{','.join(map(str, peak))}", energy=Energy.ELECTRICITY,
            subject=subject, region=subject.region,
            effect={"hours_from": peak, "hours_to": valley, "volume_per_day": round(movable, 3),
                    "volume_per_month": round(movable * 30, 3), "share_percent": round(movable / day * 100, 1),
                    "unit": unit_of(QUANTITY[Energy.ELECTRICITY])},
        ))  # fmt: skip
    return found


def outside_profile(points, now: datetime, *, store=None) -> list[dict]:
    profiles = point_profiles(points, now, store=store)
    found = []
    for point in points:
        profile = profiles.get(point.store_key)
        if profile is None or profile.hours_seen(True) < 24 * 5 or profile.hours_seen(False) < 24 * 14:
            continue
        recent, base = profile.recent, profile.baseline
        hours = [h for h in range(24) if recent[h] is not None and base[h] is not None]
        normal = sum(base[h] for h in hours)
        if normal <= 0:
            continue
        deviation = sum(abs(recent[h] - base[h]) for h in hours) / normal
        if deviation <= PROFILE_DEVIATION:
            continue
        extra = sum(recent[h] - base[h] for h in hours) * RECENT.days
        found.append(dict(
            kind=Kind.OUTSIDE_PROFILE, key=f"profile:{point.object_code}:{point.store_device_id}",
            energy=point.energy, subject=point.subject, point=point, object_code=point.object_code,
            region=point.region,
            effect={"deviation_percent": round(deviation * 100, 1), "volume_week": round(extra, 3),
                    "unit": unit_of(QUANTITY[point.energy]), "days": RECENT.days},
        ))  # fmt: skip
    return found


def losses(points, now: datetime, *, store=None) -> list[dict]:
    by_object = {(p.object_code, p.energy): p for p in points if p.commercial}
    found = []
    for balance in object_balances(points, now, store=store):
        allowed = ALLOWED_IMBALANCE.get(balance.energy)
        came = balance.recent_in + balance.base_in
        measured = balance.recent_out + balance.base_out
        if allowed is None or came <= 0:
            continue
        rate = (came - measured) / came
        if rate <= allowed:
            continue
        boundary = by_object.get((balance.object_code, balance.energy))
        found.append(dict(
            kind=Kind.LOSSES, key=f"losses:{balance.object_code}:{balance.energy}", energy=balance.energy,
            subject=boundary.subject if boundary else None, object_code=balance.object_code,
            region=boundary.region if boundary else "",
            effect={"loss_percent": round(rate * 100, 2), "allowed_percent": round(allowed * 100, 2),
                    "volume_above_allowed": round(came * (rate - allowed), 3),
                    "days": (RECENT + BASELINE).days, "unit": unit_of(QUANTITY[balance.energy])},
        ))  # fmt: skip
    return found


def recompute(now: datetime | None = None, *, store=None) -> dict:
    """Recompute every recommendation; returns counts by kind."""
    now = now or utcnow()
    points = _points()
    found = [*peak_shifts(points, now, store=store), *outside_profile(points, now, store=store),
             *losses(points, now, store=store)]  # fmt: skip
    keys = set()
    with transaction.atomic():
        for fields in found:
            keys.add((fields["kind"], fields["key"]))
            existing = Recommendation.objects.filter(kind=fields["kind"], key=fields["key"]).first()
            if existing is None:
                Recommendation.objects.create(computed_at=now, **fields)
            elif existing.status == Recommendation.Status.OPEN:
                for name, value in fields.items():
                    setattr(existing, name, value)
                existing.computed_at = now
                existing.save()
        for stale in Recommendation.objects.filter(status=Recommendation.Status.OPEN):
            if (stale.kind, stale.key) not in keys:
                stale.delete()
    counts = {kind.value: 0 for kind in Kind}
    for fields in found:
        counts[fields["kind"]] += 1
    return counts


class AlreadyDecided(ValueError):
    pass


def decide(
    recommendation: Recommendation, *, accept: bool, reason: str, actor, request=None
) -> Recommendation:
    """Accept or dismiss with a reason (required); audited with before and after, and kept in the feedback
    register too (GEN-07: what people think of the analytics is feedback), on the recommendations page."""
    from egsu.feedback.services import submit

    if not reason.strip():
        raise ValueError("a decision needs a reason")
    with transaction.atomic():
        found = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        if found.status != Recommendation.Status.OPEN:
            raise AlreadyDecided(f"recommendation {found.pk} is already {found.status}")
        found.status = Recommendation.Status.ACCEPTED if accept else Recommendation.Status.DISMISSED
        found.reason = reason.strip()
        found.decided_by = actor
        found.decided_at = utcnow()
        found.save()
        audit(
            Event.RECOMMENDATION_DECIDED, actor=actor, obj=found, request=request,
            summary=f"{found.kind} {found.key}: {found.status}", before={"status": "open"},
            after={"status": found.status, "reason": found.reason, "effect": found.effect},
            source="egsu.analytics.recommendations.decide",
        )  # fmt: skip
        submit(
            actor, page="/cabinet/analytics/recommendations/", page_title="Recommendations", query=f"id={found.pk}",
            topic="data", text=f"{found.get_kind_display()} ({found.key}): {found.status}. {found.reason}",
            language=getattr(request, "LANGUAGE_CODE", "") if request is not None else "", request=request,
        )  # fmt: skip
    return found
