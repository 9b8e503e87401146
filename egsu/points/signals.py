"""The one place where registry edits reach the metering points (docs/decisions/0007).

Saving a device, meter, facility, metering object or subject refreshes the points it shapes.
Bulk paths that bypass save() (bulk_create, update()) call egsu.points.services.refresh_points
themselves: register_meters, the workbook import and the demo do.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from egsu.ami.models import Meter, MeteringObject
from egsu.points import lineage
from egsu.points.services import refresh_points
from egsu.registry.models import Device, Facility, Subject


def _device_saved(sender, instance: Device, raw: bool = False, **kwargs) -> None:
    if not raw:
        refresh_points(devices=[instance.pk])


def _meter_saved(sender, instance: Meter, raw: bool = False, **kwargs) -> None:
    if not raw:
        refresh_points(meters=[instance.pk])


def _facility_saved(sender, instance: Facility, raw: bool = False, created: bool = False, **kwargs) -> None:
    if not raw and not created:
        refresh_points(devices=Device.objects.filter(facility=instance))


def _object_saved(
    sender, instance: MeteringObject, raw: bool = False, created: bool = False, **kwargs
) -> None:
    if not raw and not created:
        refresh_points(meters=Meter.objects.filter(metering_object=instance))


def _subject_saved(sender, instance: Subject, raw: bool = False, created: bool = False, **kwargs) -> None:
    if not raw and not created:
        refresh_points(
            devices=Device.objects.filter(facility__subject=instance),
            meters=Meter.objects.filter(subject=instance)
            | Meter.objects.filter(metering_object__subject=instance),
        )


def connect() -> None:
    post_save.connect(_device_saved, sender=Device, dispatch_uid="points-device")
    post_save.connect(_meter_saved, sender=Meter, dispatch_uid="points-meter")
    post_save.connect(_facility_saved, sender=Facility, dispatch_uid="points-facility")
    post_save.connect(_object_saved, sender=MeteringObject, dispatch_uid="points-object")
    post_save.connect(_subject_saved, sender=Subject, dispatch_uid="points-subject")
    # a recorded replacement changes which device's values count when (egsu.points.lineage)
    post_save.connect(lineage.invalidate, sender="schemes.Failure", dispatch_uid="points-lineage-save")
    post_delete.connect(lineage.invalidate, sender="schemes.Failure", dispatch_uid="points-lineage-delete")
