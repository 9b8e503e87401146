"""Metering points as the readings store's series filter (ReadingQuery.series).

The store is Django-free and takes any set of (object_id, device_id) pairs; the SQL backend also
recognises a queryset and filters with a subquery instead of shipping the pairs, so a subject with
a million meters costs one join, not a million parameters.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet


class PointSeries:
    """The store keys of a queryset of metering points."""

    object_field = "object_code"
    device_field = "store_device_id"

    def __init__(self, queryset: QuerySet) -> None:
        self.queryset = queryset

    def pairs(self) -> Iterator[tuple[str, str]]:
        return self.queryset.values_list(self.object_field, self.device_field).iterator(chunk_size=5000)

    def __len__(self) -> int:
        return self.queryset.count()
