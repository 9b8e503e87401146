"""The registry as the ISUN rules see it (egsu_core.isun.registry_view.RegistryView), read from the database.

One instance per request: it caches what it has read, so a 5,000-record message costs
two queries for its facilities (after ``prefetch``) and one each for product types and
pipelines, however many records name them.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from egsu.registry.models import Device, Facility, Pipeline, ProductType
from egsu_core.isun.registry_view import DeviceInfo, FacilityInfo

_CHUNK = 500  # well under every backend's bound-parameter limit


def _chunks(values: Iterable[str], size: int = _CHUNK):
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


class DjangoRegistryView:
    """A per-request, read-through snapshot of facilities, devices and operator dictionaries.

    Inactive facilities and devices are returned with ``active=False`` so the rules can say why a
    record is refused; product types and pipelines "exist" only while active.
    """

    def __init__(self) -> None:
        self._facilities: dict[str, FacilityInfo | None] = {}
        self._owners: dict[str, int | None] = {}
        self._product_types: frozenset[int] | None = None
        self._pipelines: frozenset[int] | None = None

    def prefetch(self, object_ids: Iterable[str]) -> None:
        """Load every facility named in a message, with its devices, in two queries per 500 IDs."""
        wanted = {str(object_id) for object_id in object_ids} - self._facilities.keys()
        for chunk in _chunks(sorted(wanted)):
            self._load(chunk)

    def facility(self, object_id: str) -> FacilityInfo | None:
        if object_id not in self._facilities:
            self._load([object_id])
        return self._facilities[object_id]

    def owners(self) -> dict[str, int | None]:
        """The owning subject's pk of every object ID read so far (None: not registered).

        The arrivals ledger places the message's records with the same reading the rules judged
        them by, instead of reading the facilities a second time.
        """
        return dict(self._owners)

    def product_type_exists(self, product_type_id: int) -> bool:
        if self._product_types is None:
            self._product_types = frozenset(
                ProductType.objects.filter(active=True).values_list("id", flat=True)
            )
        return product_type_id in self._product_types

    def pipeline_exists(self, pipeline_id: int) -> bool:
        if self._pipelines is None:
            self._pipelines = frozenset(Pipeline.objects.filter(active=True).values_list("id", flat=True))
        return pipeline_id in self._pipelines

    def _load(self, object_ids: list[str]) -> None:
        facilities: dict[str, tuple[str, str, bool]] = {}
        object_id_of: dict[int, str] = {}
        for pk, object_id, kind, bin_, active, subject_pk in Facility.objects.filter(
            object_id__in=object_ids
        ).values_list("pk", "object_id", "kind", "subject__bin", "active", "subject_id"):
            facilities[object_id] = (kind, bin_, active)
            object_id_of[pk] = object_id
            self._owners[object_id] = subject_pk
        # One row per (device, allowed operation): the LEFT JOIN keeps devices without any.
        rows = (
            ()
            if not object_id_of
            else Device.objects.filter(facility_id__in=list(object_id_of))
            .values_list(
                "facility_id",
                "device_id",
                "device_type_id",
                "product_type_id",
                "pipeline_id",
                "commercial",
                "active",
                "allowed_operations__id",
            )
            .order_by()
        )
        devices: dict[str, dict[str, tuple]] = {object_id: {} for object_id in facilities}
        operations: dict[tuple[str, str], set[int]] = {}
        for (
            facility_pk,
            device_id,
            type_id,
            product_id,
            pipeline_id,
            commercial,
            active,
            operation_id,
        ) in rows:
            object_id = object_id_of[facility_pk]
            devices[object_id][device_id] = (type_id, product_id, pipeline_id, commercial, active)
            ops = operations.setdefault((object_id, device_id), set())
            if operation_id is not None:
                ops.add(operation_id)
        for object_id in object_ids:
            if object_id not in facilities:
                self._facilities[object_id] = None
                self._owners[object_id] = None
                continue
            kind, bin_, active = facilities[object_id]
            self._facilities[object_id] = FacilityInfo(
                object_id=object_id,
                kind=kind,
                subject_bin=bin_,
                active=active,
                devices={
                    device_id: DeviceInfo(
                        device_id=device_id,
                        device_type_id=type_id,
                        product_type_id=product_id,
                        pipeline_id=pipeline_id,
                        commercial=commercial,
                        active=device_active,
                        allowed_operations=frozenset(operations[(object_id, device_id)]),
                    )
                    for device_id, (type_id, product_id, pipeline_id, commercial, device_active) in devices[
                        object_id
                    ].items()
                },
            )
