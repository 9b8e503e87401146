"""Keeping metering points equal to the registry they project (docs/decisions/0007).

`refresh_points` derives the points of some devices and meters in a few bulk statements; the
registry models' saves reach it through the signal handlers in egsu.points.signals (one place),
and bulk loads (`register_meters`, the workbook import, the demo) call it for what they
created. `egsu points refresh` rebuilds everything when in doubt.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from django.db import transaction
from django.db.models import QuerySet

from egsu.ami.models import Meter
from egsu.monitoring import slots as slot_rules
from egsu.points.lineage import narrow_owed
from egsu.points.models import MeteringPoint
from egsu.registry.models import Device
from egsu_core.clock import astana_date, utcnow
from egsu_core.vocabulary import Energy

_CHUNK = 2000
_UPDATED = [
    "energy", "object_code", "store_device_id", "subject", "supplier", "region", "object_kind", "object_name",
    "name", "serial_number", "model_name", "account", "address", "counterparty", "product", "device_type",
    "commercial", "active", "owes", "owed_intervals", "owes_from", "owes_until", "verification_due",
]  # fmt: skip


def _subject_text(subject) -> str:
    return subject.short_name or subject.name


def device_point(device: Device) -> MeteringPoint:
    """The point of an oil and gas device (facility, subject and dictionaries loaded)."""
    facility = device.facility
    subject = facility.subject
    intervals = slot_rules.intervals_for_kind(facility.kind)
    return MeteringPoint(
        energy=Energy.OIL_GAS,
        device=device,
        object_code=facility.object_id,
        store_device_id=device.device_id,
        subject=subject,
        supplier=subject,
        region=facility.region or subject.region,
        object_kind=facility.kind,
        object_name=facility.name,
        name=f"{facility.object_id}/{device.device_id}",
        serial_number=device.serial_number,
        model_name=device.model_name,
        address=subject.address,
        counterparty=_subject_text(subject),
        product=f"{device.product_type_id} {device.product_type.name}" if device.product_type_id else "",
        device_type=f"{device.device_type_id} {device.device_type.name_en}" if device.device_type_id else "",
        commercial=device.commercial,
        active=device.active,
        owes=facility.active and (device.active or device.removed_at is not None),
        owed_intervals=",".join(intervals),
        owes_from=device.installed_at or _day(device.created_at),
        owes_until=device.removed_at,
    )


def meter_point(meter: Meter) -> MeteringPoint:
    """The point of an AMI meter (metering object and subjects loaded)."""
    place = meter.metering_object
    owner = place.subject or meter.subject
    interval = slot_rules.meter_interval(meter.energy, meter.gas_band)
    return MeteringPoint(
        energy=Energy(meter.energy),
        meter=meter,
        object_code=place.code,
        store_device_id=meter.store_device_id,
        subject=owner,
        supplier=meter.subject,
        region=place.region or owner.region,
        object_kind=place.kind,
        object_name=place.name,
        name=meter.serial_number,
        serial_number=meter.serial_number,
        model_name=meter.model,
        account=meter.account,
        address=meter.address or place.address,
        counterparty=meter.counterparty or _subject_text(owner),
        device_type=str(meter.get_meter_type_display()),
        commercial=meter.commercial,
        active=meter.active,
        owes=meter.active and place.active and interval is not None,
        owed_intervals=interval.value if interval else "",
        owes_from=_day(meter.created_at),
        owes_until=None,
        verification_due=meter.verification_due,
    )


def _day(moment) -> date:
    """The Astana day of a registration (now, for an object not saved yet)."""
    return astana_date(moment or utcnow())


def _chunks(queryset: QuerySet) -> Iterator[list]:
    batch = []
    for item in queryset.iterator(chunk_size=_CHUNK):
        batch.append(item)
        if len(batch) >= _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def refresh_points(
    *, devices: QuerySet | Iterable[int] | None = None, meters: QuerySet | Iterable[int] | None = None
) -> int:
    """Create or update the points of these devices and meters (querysets or ids); returns how many."""
    from egsu.schemes.services import narrow_owed_by_schemes

    done = 0
    with transaction.atomic():
        for source, model, build, owner, related in (
            (devices, Device, device_point, "device", ("facility__subject", "product_type", "device_type")),
            (meters, Meter, meter_point, "meter", ("metering_object__subject", "subject")),
        ):
            if source is None:
                continue
            for rows in _selections(source, model):
                rows = rows.select_related(*related).order_by("pk")
                for batch in _chunks(rows):
                    points = [build(item) for item in batch]
                    narrow_owed(points)  # replacements (DIG-45): the old device owes until, the new from
                    narrow_owed_by_schemes(points)  # the approved scheme in force (OGM-04)
                    done += _upsert(points, owner)
    return done


def _selections(source: QuerySet | Iterable[int], model) -> Iterator[QuerySet]:
    """A queryset as it is; ids in slices small enough for any database's parameter limit."""
    if isinstance(source, QuerySet):
        yield source
        return
    ids = sorted(set(source))
    for start in range(0, len(ids), 500):
        yield model.objects.filter(pk__in=ids[start : start + 500])


def _upsert(points: list[MeteringPoint], owner_field: str) -> int:
    if points:
        MeteringPoint.objects.bulk_create(
            points, update_conflicts=True, unique_fields=[owner_field], update_fields=_UPDATED
        )
    return len(points)


def refresh_all() -> int:
    """Every point again, from the whole registry (after a bulk load or to repair)."""
    return refresh_points(devices=Device.objects.all(), meters=Meter.objects.all())


def ensure_points() -> int:
    """Rebuild the points when their number disagrees with the registry's (a start-up check)."""
    if MeteringPoint.objects.count() == Device.objects.count() + Meter.objects.count():
        return 0
    return refresh_all()


def refresh_of(points: Iterable[MeteringPoint]) -> int:
    """Derive these points again (after something outside the registry changed what they owe)."""
    points = list(points)
    return refresh_points(devices=[p.device_id for p in points if p.device_id],
                          meters=[p.meter_id for p in points if p.meter_id])  # fmt: skip
