"""The registry as the ISUN rules see it (egsu_core.isun.registry_view.RegistryView), read from the database.

One instance per request, reading through what this process has read under the registry's
current change stamp (`egsu.registry.stamped`): a sender's facilities, devices and the operator's
dictionaries are read once, and again only after the registry changed. What is not yet read
costs one query per 500 facilities (after ``prefetch``) and one for product types and pipelines
together, however many records name them.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from django.db.models import Value

from egsu.registry.models import Facility, Pipeline, ProductType
from egsu.registry.stamped import Stamped
from egsu_core.isun.registry_view import DeviceInfo, FacilityInfo

_CHUNK = 500  # well under every backend's bound-parameter limit
_LIMIT = 50_000  # facilities kept per process


class _Read:
    """What the views of one registry stamp have read."""

    def __init__(self) -> None:
        self.facilities: dict[str, FacilityInfo | None] = {}
        self.owners: dict[str, int | None] = {}
        self.dictionaries: tuple[frozenset[int], frozenset[int]] | None = None  # product types, pipelines


_READ = Stamped(_Read, lambda read: len(read.facilities), _LIMIT)  # one per process


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
        self._read = _READ.current(Facility.objects.db)
        self._facilities, self._owners = self._read.facilities, self._read.owners

    def prefetch(self, object_ids: Iterable[str]) -> None:
        """Load every facility named in a message, with its devices, in one query per 500 IDs."""
        wanted = {str(object_id) for object_id in object_ids} - self._facilities.keys()
        for chunk in _chunks(sorted(wanted)):
            self._load(chunk)

    def facility(self, object_id: str) -> FacilityInfo | None:
        if object_id not in self._facilities:
            self._load([object_id])
        return self._facilities[object_id]

    def owners(self) -> dict[str, int | None]:
        """The owning subject's pk of every object ID read so far under this stamp (None: not
        registered); at least those of the message after ``prefetch``. Read it, do not change it.

        The arrivals ledger places the message's records with the same reading the rules judged
        them by, instead of reading the facilities a second time.
        """
        return self._owners

    def product_type_exists(self, product_type_id: int) -> bool:
        return product_type_id in self._dictionaries()[0]

    def pipeline_exists(self, pipeline_id: int) -> bool:
        return pipeline_id in self._dictionaries()[1]

    def _dictionaries(self) -> tuple[frozenset[int], frozenset[int]]:
        if self._read.dictionaries is None:
            self._read.dictionaries = self._load_dictionaries()
        return self._read.dictionaries

    @staticmethod
    def _load_dictionaries() -> tuple[frozenset[int], frozenset[int]]:
        """The active product types and pipelines, in one query (a record names both, mostly)."""
        products = ProductType.objects.filter(active=True).annotate(dictionary=Value(1)).order_by()
        pipelines = Pipeline.objects.filter(active=True).annotate(dictionary=Value(2)).order_by()
        found: dict[int, set[int]] = {1: set(), 2: set()}
        for dictionary, pk in products.values_list("dictionary", "id").union(
            pipelines.values_list("dictionary", "id"), all=True
        ):
            found[dictionary].add(pk)
        return frozenset(found[1]), frozenset(found[2])

    def _load(self, object_ids: list[str]) -> None:
        facilities: dict[str, tuple[str, str, bool]] = {}
        devices: dict[str, dict[str, tuple]] = {}
        operations: dict[tuple[str, str], set[int]] = {}
        # One query: a row per (facility, device, allowed operation); the LEFT JOINs keep a
        # facility without devices and a device without operations (their columns are NULL).
        rows = (
            Facility.objects.filter(object_id__in=object_ids)
            .values_list(
                "object_id",
                "kind",
                "subject__bin",
                "active",
                "subject_id",
                "devices__device_id",
                "devices__device_type_id",
                "devices__product_type_id",
                "devices__pipeline_id",
                "devices__commercial",
                "devices__active",
                "devices__allowed_operations__id",
            )
            .order_by()
        )
        for (
            object_id,
            kind,
            bin_,
            active,
            subject_pk,
            device_id,
            type_id,
            product_id,
            pipeline_id,
            commercial,
            device_active,
            operation_id,
        ) in rows:
            if object_id not in facilities:
                facilities[object_id] = (kind, bin_, active)
                devices[object_id] = {}
                self._owners[object_id] = subject_pk
            if device_id is None:
                continue
            devices[object_id][device_id] = (type_id, product_id, pipeline_id, commercial, device_active)
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
