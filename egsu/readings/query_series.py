"""Metering points named by a Django queryset, for `ReadingQuery.series`.

A list page or an API filter already has its metering points as a queryset (scope, facets,
search). `QuerySeries` hands that queryset to the readings store as it is: the SQL backend reads
it as a subquery in the same statement (nothing is loaded into Python), and any other backend
asks `pairs()`, one query that streams the (object_id, device_id) pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from egsu.readings.store import SeriesPair


@dataclass(frozen=True, eq=False)
class QuerySeries:
    """The metering points of `queryset`: `object_field` and `device_field` give each pair.

    Either field may be a lookup ("facility__object_id") or an annotation of the queryset (a
    meter's `Cast("pk", CharField())`); both must yield the store's text ids exactly.
    """

    queryset: QuerySet
    object_field: str = "object_code"
    device_field: str = "store_device_id"

    def pairs(self) -> Iterator[SeriesPair]:
        rows = self.queryset.order_by().values_list(self.object_field, self.device_field).distinct()
        for object_id, device_id in rows.iterator(chunk_size=5000):
            yield (str(object_id), str(device_id))

    def ordered_pairs(self) -> Iterator[SeriesPair]:
        """`pairs()` sorted as the readings store sorts text (code point order: bytewise UTF-8, i.e.
        COLLATE "C" on PostgreSQL, SQLite's own), streamed: a reader may start on the first pairs
        while the rest are read (ClickHouse's streamed per-point answers)."""
        from django.db import connections
        from django.db.models import F
        from django.db.models.functions import Collate

        fields = [F(self.object_field), F(self.device_field)]
        if connections[self.queryset.db].vendor == "postgresql":
            fields = [Collate(field, "C") for field in fields]
        rows = self.queryset.order_by().values_list(self.object_field, self.device_field).distinct()
        for object_id, device_id in rows.order_by(*fields).iterator(chunk_size=5000):
            yield (str(object_id), str(device_id))

    def __len__(self) -> int:
        return self.queryset.order_by().values_list(self.object_field, self.device_field).distinct().count()
