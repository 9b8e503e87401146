"""AMI registry services: head-end tokens, bulk registration of meters, verification warnings.

The intake of batches is in egsu.ami.intake; both are called by the API, the MQTT consumer,
the CLI and the admin alike.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from django.db import transaction
from django.db.models import QuerySet

from egsu.ami import catalog
from egsu.ami.broker import password_hash
from egsu.ami.models import Channel, HeadEndSystem, Meter
from egsu.ami.obis import default_obis
from egsu.points.services import refresh_points
from egsu.registry.models import Subject
from egsu_core.clock import astana_date, utcnow

TOKEN_PREFIX = "ami_"


def token_hash(token: str) -> str:
    """sha256 of a bearer token. Tokens are 256-bit random, so a fast hash is safe (no dictionary to try)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_head_end(name: str, subject: Subject, *, mqtt_username: str = "") -> tuple[HeadEndSystem, str]:
    """A new head-end and its bearer token; the token is returned once and only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    head_end = HeadEndSystem(
        name=name,
        subject=subject,
        token_hash=token_hash(token),
        token_prefix=token[:12],
        mqtt_username=mqtt_username or name,
        mqtt_password_hash=password_hash(token),
    )
    head_end.full_clean()
    head_end.save()
    from egsu.registry.audit import record, snapshot

    record(
        head_end,
        None,
        snapshot(head_end),
        source="ami.create_head_end",
        summary=f"head-end {name} created with a token",
    )
    return head_end, token


def rotate_token(head_end: HeadEndSystem, *, actor=None, request=None, source: str = "") -> str:
    """Replace a head-end's token (the old one stops working at once); audited, the token never logged."""
    from egsu.access.audit import Event, audit

    old_prefix = head_end.token_prefix
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    head_end.token_hash, head_end.token_prefix = token_hash(token), token[:12]
    head_end.mqtt_password_hash = password_hash(token)  # the token is its MQTT password too
    head_end.save(update_fields=["token_hash", "token_prefix", "mqtt_password_hash"])
    audit(
        Event.HEAD_END_TOKEN_CHANGED,
        actor=actor,
        obj=head_end,
        request=request,
        source=source,
        summary=f"bearer token (and MQTT password) of head-end {head_end.name} replaced",
        before={"token_prefix": old_prefix},
        after={"token_prefix": head_end.token_prefix},
    )
    return token


def authenticate(token: str | None) -> HeadEndSystem | None:
    """The active head-end holding this bearer token (AMI-25: mandatory authentication), or None."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    return (
        HeadEndSystem.objects.select_related("subject")
        .filter(token_hash=token_hash(token), active=True)
        .first()
    )


def head_end_by_name(name: str) -> HeadEndSystem | None:
    return HeadEndSystem.objects.select_related("subject").filter(name=name, active=True).first()


def verification_due(
    within_days: int,
    *,
    today: date | None = None,
    subject: Subject | None = None,
    include_overdue: bool = False,
) -> QuerySet[Meter]:
    """Active meters whose verification (поверка) expires within N days: warnings before it lapses.

    AMI-47: meters must carry a valid verification certificate. With include_overdue, meters whose
    verification has already lapsed are listed too. Days are Astana business days.
    """
    if within_days < 0:
        raise ValueError("within_days cannot be negative")
    today = today or astana_date(utcnow())
    meters = Meter.objects.filter(active=True, verification_due__lte=today + timedelta(days=within_days))
    if not include_overdue:
        meters = meters.filter(verification_due__gte=today)
    if subject is not None:
        meters = meters.filter(subject=subject)
    return meters.select_related("metering_object").order_by("verification_due", "serial_number")


def channel_for(meter: Meter, code: str, *, obis: str | None = None) -> Channel:
    """An unsaved channel with unit, interval and (electricity) default OBIS code filled in."""
    quantity = catalog.QUANTITIES[code]
    band = catalog.GasBand(meter.gas_band) if meter.gas_band else None
    return Channel(
        meter=meter,
        code=code,
        unit=quantity.unit,
        obis=obis if obis is not None else (default_obis(code) or ""),
        interval=catalog.channel_interval(quantity.energy, band),
    )


def register_meters(
    meters: Sequence[Meter],
    channel_codes: Iterable[str],
    *,
    validate: bool = True,
    batch_size: int = 2000,
    actor=None,
    source: str = "",
) -> list[Meter]:
    """Create meters and the same channels for each in bulk (one transaction); returns saved meters.

    With validate, every meter and channel passes full_clean first (skip it for trusted loads of
    millions, where the database constraints still hold).
    """
    codes = list(channel_codes)
    with transaction.atomic():
        if validate:
            for meter in meters:  # the unique constraints are the database's to check, once
                meter.full_clean(validate_unique=False, validate_constraints=False)
        created = Meter.objects.bulk_create(meters, batch_size=batch_size)
        channels = [channel_for(meter, code) for meter in created for code in codes]
        if validate:
            for channel in channels:
                channel.full_clean(validate_unique=False, validate_constraints=False)
        Channel.objects.bulk_create(channels, batch_size=batch_size)
        refresh_points(meters=[meter.pk for meter in created])
        _audit_registered(created, codes, actor=actor, source=source)
    return created


def _audit_registered(meters: Sequence[Meter], codes: list[str], *, actor, source: str) -> None:
    """Meter registration into the audit log: one event per call, the meters' serials and channels."""
    from egsu.access.audit import Event, audit

    if not meters:
        return
    serials = [m.serial_number for m in meters]
    audit(
        Event.METER_REGISTERED,
        actor=actor,
        object_type="ami.meter",
        object_id=",".join(str(m.pk) for m in meters[:20]) + ("…" if len(meters) > 20 else ""),
        summary=f"{len(meters)} meter(s) registered: {', '.join(serials[:10])}{'…' if len(serials) > 10 else ''}",
        after={"count": len(meters), "serial_numbers": serials[:1000], "channels": codes},
        source=source,
    )
