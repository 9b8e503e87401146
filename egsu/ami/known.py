"""What the AMI intake knows of the registry: the meters a batch names and their channels.

A head-end sends the same meters every quarter hour, so a process keeps what it read while the
registry's change stamp (`egsu.registry.stamp`) stays the same: database triggers change the
stamp with any change to meters, channels, metering objects, points or head-ends, bulk writes and
other processes' included, so a batch checked after a change is checked against the new registry.
One query reads the stamp per batch; the meters and channels not yet known (and serials that name
no meter, kept as such) are read as before. The cache is bounded: past `LIMIT` meters it starts
afresh, so memory stays flat however many meters a process meets.
"""

from __future__ import annotations

import json
from functools import cache
from typing import NamedTuple

from django.db import connections
from django.db.models.functions import Coalesce

from egsu.ami.models import Channel, Meter
from egsu.registry.stamped import Stamped

LIMIT = 250_000  # meters kept per process (about 60 MB with their channels)
_LOOKUP_CHUNK = 500
_SERIALS = "@SERIALS@"


class MeterInfo(NamedTuple):  # a tuple: a batch makes one per meter, thousands
    id: int
    energy: str
    commercial: bool
    active: bool
    object_code: str
    composition: dict | None
    owner: int  # the subject that owes its slots (the metering object's, else the meter's)
    gas_band: str
    device_id: str  # the readings store's device_id: str(id), written once per meter
    point: int | None  # its metering point
    owes: bool
    owed_intervals: str


class _State:
    """The meters (per subject and serial; None: no such meter) and channels read under one stamp."""

    def __init__(self) -> None:
        self.meters: dict[tuple[int, str], MeterInfo | None] = {}
        self.channels: dict[tuple[int, str], tuple[str, str]] = {}  # (meter id, code) → (unit, interval)
        self.channels_read: set[int] = set()  # meter ids whose channels are in `channels`


class Known:
    """The intake's view of meters and channels, read through a per-process `Stamped` state."""

    def __init__(self) -> None:
        self._stamped = Stamped(_State, lambda state: len(state.meters), LIMIT)

    def lookup(
        self, subject_id: int, serials: set[str]
    ) -> tuple[dict[str, MeterInfo], dict[tuple[int, str], tuple[str, str]]]:
        """The subject's meters of these serials, and (meter id, code) → (unit, interval) of their
        channels (the channels of other meters may be in it too)."""
        state = self._stamped.current(Meter.objects.db)
        meters = state.meters
        missing = {serial for serial in serials if (subject_id, serial) not in meters}
        if missing:
            found = read_meters(subject_id, missing)
            for serial in missing:
                meters[(subject_id, serial)] = found.get(serial)
        known = {serial: meter for serial in serials if (meter := meters[(subject_id, serial)]) is not None}
        unread = [meter.id for meter in known.values() if meter.id not in state.channels_read]
        if unread:
            state.channels.update(read_channels(unread))  # the channels first, then the mark that they are in
            state.channels_read.update(unread)
        return known, state.channels


@cache
def _meters_sql(alias: str) -> str:
    """The meters query's SQL, compiled once; `_SERIALS` stands for the serials' placeholders and its
    only other parameter, the subject, comes before them."""
    quote = connections[alias].ops.quote_name
    column = f"{quote(Meter._meta.db_table)}.{quote(Meter._meta.get_field('serial_number').column)}"
    query = (
        # extra() with our own SQL fragment (no values: they travel as parameters)
        Meter.objects.using(alias)
        .filter(subject_id=0)
        .extra(where=[f"{column} IN ({_SERIALS})"])  # nosec B610
        .annotate(owner=Coalesce("metering_object__subject_id", "subject_id"))
        .values_list(
            "id",
            "serial_number",
            "energy",
            "commercial",
            "active",
            "metering_object__code",
            "metering_object__gas_composition",
            "owner",
            "gas_band",
            "metering_point__id",
            "metering_point__owes",
            "metering_point__owed_intervals",
        )  # fmt: skip
    ).query
    sql, params = query.sql_with_params()
    if tuple(params) != (0,) or sql.count(_SERIALS) != 1 or sql.index("%s") > sql.index(_SERIALS):
        raise AssertionError(f"unexpected meters query: {sql}")
    return sql


def read_meters(subject_id: int, serials: set[str]) -> dict[str, MeterInfo]:
    """The meters of these serials registered to the subject, one query per chunk of serials.

    The query is compiled once and run on a plain cursor: preparing thousands of serials through
    the field, compiling the queryset per batch and Django's per-row machinery cost more than it.
    """
    found: dict[str, MeterInfo] = {}
    ordered = sorted(serials)
    alias = Meter.objects.db
    template = _meters_sql(alias)
    for start in range(0, len(ordered), _LOOKUP_CHUNK):
        chunk = ordered[start : start + _LOOKUP_CHUNK]
        sql = template.replace(_SERIALS, ", ".join(["%s"] * len(chunk)))
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [subject_id, *chunk])
            fetched = cursor.fetchall()
        for pk, serial, energy, commercial, active, object_code, composition, owner, band, *point in fetched:
            if isinstance(composition, str):  # a JSON column as text (SQLite)
                composition = json.loads(composition)
            found[serial] = MeterInfo(
                pk, energy, bool(commercial), bool(active), object_code, composition or None, owner, band, str(pk),
                point[0], bool(point[1]), point[2] or "",
            )  # fmt: skip
    return found


def read_channels(meter_ids: list[int]) -> dict[tuple[int, str], tuple[str, str]]:
    """(meter id, code) → (unit, interval) of the meters' channels.

    Plain SQL: four integer and text columns need no conversion, and the queryset's preparing
    of every id and row cost as much as the query (a batch names thousands of meters).
    """
    found: dict[tuple[int, str], tuple[str, str]] = {}
    connection = connections[Channel.objects.db]
    quote = connection.ops.quote_name
    meter, code, unit, interval = (
        quote(Channel._meta.get_field(name).column) for name in ("meter", "code", "unit", "interval")
    )
    table = quote(Channel._meta.db_table)
    select = f"SELECT {meter}, {code}, {unit}, {interval} FROM {table} WHERE {meter} IN "
    with connection.cursor() as cursor:
        for start in range(0, len(meter_ids), _LOOKUP_CHUNK):
            chunk = [int(pk) for pk in meter_ids[start : start + _LOOKUP_CHUNK]]
            cursor.execute(select + f"({', '.join(['%s'] * len(chunk))})", chunk)
            for meter_id, code, unit, interval in cursor.fetchall():
                found[(meter_id, code)] = (unit, interval)
    return found


KNOWN = Known()  # one per process
