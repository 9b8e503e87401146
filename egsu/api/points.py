"""/api/v1/points: metering points (the list page's filter), their latest values and one point's series.

Points come from PointFilter over the gate (egsu.access.scope.points), the same filter the list
page and its export use; values come from the readings store only (MON-01/02, ANA-04, ACC-15).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from django.db.models import Q, QuerySet
from django.http import Http404
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from egsu.access import scope as gate
from egsu.api import pages
from egsu.cabinet.readings_selection import reading_query, selection_from
from egsu.cabinet.views_readings import DATA_MODULES
from egsu.points.filters import PointFilter
from egsu.points.models import MeteringPoint
from egsu.readings.services import get_store
from egsu.readings.store import ReadingQuery, ReadingRow, row_order_key, series_of

router = Router(tags=["metering points"])

POINT_COLUMNS = ("id", "energy", "subject", "subject_name", "supplier", "region", "object_id", "object_name",
                 "object_kind", "device_id", "name", "serial_number", "model", "account", "address",
                 "counterparty", "product", "device_type", "commercial", "active", "intervals")  # fmt: skip
VALUE_COLUMNS = ("point", "object_id", "device_id", "quantity", "interval", "period_start", "value", "unit",
                 "quality", "revision", "commercial", "recorded_at")  # fmt: skip
CHUNK = 500  # points per readings-store question of /latest


class PointParams(Schema):
    """PointFilter's parameters (the list page's), plus the page's."""

    q: str | None = None
    search_in: str | None = None
    energy: str | None = None
    subject: str | None = None
    region: str | None = None
    object: str | None = None
    object_kind: str | None = None
    product: str | None = None
    device_type: str | None = None
    commercial: str | None = None
    active: str | None = None
    updated_from: str | None = None
    updated_to: str | None = None
    alarms: str | None = None
    cursor: str | None = None
    limit: int | None = None
    format: str | None = None


class SeriesParams(Schema):
    start: str | None = None
    end: str | None = None
    interval: str | None = None
    quantity: str | None = None
    values_commercial: str | None = None
    cursor: str | None = None
    limit: int | None = None
    format: str | None = None


def filtered_points(scope, data) -> QuerySet:
    """The points PointFilter lets through, in a stable total order; 404 for a subject out of scope."""
    found = PointFilter.for_scope(scope, data)
    if found.is_bound and not found.is_valid():
        if "subject" in found.form.errors:
            raise Http404("no such subject in your scope")
        raise HttpError(400, "; ".join(f"{k}: {' '.join(v)}" for k, v in found.form.errors.items()))
    return (
        found.points()
        .select_related("subject", "supplier")
        .order_by("energy", "object_code", "store_device_id")
    )


def point_key(point: MeteringPoint) -> tuple:
    return (point.energy, point.object_code, point.store_device_id)


def after_point(points: QuerySet, key: tuple, *, inclusive: bool = False) -> QuerySet:
    """Points after `key` (energy, object_code, store_device_id) in the list's order (keyset)."""
    energy, code, device = (str(part) for part in key[:3])
    last = Q(energy=energy, object_code=code, store_device_id__gte=device) if inclusive else Q(
        energy=energy, object_code=code, store_device_id__gt=device)  # fmt: skip
    return points.filter(Q(energy__gt=energy) | Q(energy=energy, object_code__gt=code) | last)


def point_row(point: MeteringPoint) -> dict:
    return {
        "id": point.pk, "energy": point.energy, "subject": point.subject.bin, "subject_name": point.subject.name,
        "supplier": point.supplier.bin, "region": point.region, "object_id": point.object_code,
        "object_name": point.object_name, "object_kind": point.object_kind, "device_id": point.store_device_id,
        "name": point.name, "serial_number": point.serial_number, "model": point.model_name,
        "account": point.account, "address": point.address, "counterparty": point.counterparty,
        "product": point.product, "device_type": point.device_type, "commercial": point.commercial,
        "active": point.active, "intervals": ",".join(point.intervals),
    }  # fmt: skip


def value_row(row: ReadingRow, point_id: int | None = None) -> dict:
    return {
        "point": point_id, "object_id": row.key.object_id, "device_id": row.key.device_id,
        "quantity": row.key.quantity, "interval": row.interval, "period_start": row.period_start,
        "value": row.value, "unit": row.unit, "quality": row.quality, "revision": row.revision,
        "commercial": row.commercial, "recorded_at": row.recorded_at,
    }  # fmt: skip


def _checked_key(key: tuple | None, size: int) -> tuple | None:
    if key is not None and (len(key) != size or not all(isinstance(part, str) for part in key)):
        raise HttpError(400, "the cursor is not one this API gave")
    return key


@router.get("", summary="Metering points in your scope, filtered like the list page")
def point_list(request, params: Query[PointParams]):
    scope = pages.scope_of(request, any_of=DATA_MODULES)
    points = filtered_points(scope, pages.filter_data(request))
    cursor = _checked_key(pages.cursor_of(request), 3)
    if cursor is not None:
        points = after_point(points, cursor)
    return pages.answer(request, items=points.iterator(chunk_size=2000), key=point_key, row=point_row,
                        columns=POINT_COLUMNS, name="points")  # fmt: skip


def _latest(points: QuerySet, cursor: tuple | None) -> Iterator[tuple[tuple, dict]]:
    """(key, row) of every point's newest value per quantity and interval, point by point, a chunk at a time."""
    store = get_store()
    found = points.iterator(chunk_size=2000)
    while chunk := list(islice(found, CHUNK)):
        by_key = {point.store_key: point for point in chunk}
        found_rows = []
        for row in store.newest(ReadingQuery(series=series_of(by_key))):
            point = by_key[(row.key.object_id, row.key.device_id)]
            key = (*point_key(point), row.key.quantity, row.interval)
            if cursor is None or key > cursor:
                found_rows.append((key, value_row(row, point.pk)))
        found_rows.sort(key=lambda item: item[0])  # the store orders by its key, the list by the points'
        yield from found_rows


@router.get("/latest", summary="The newest value of each quantity of the points filtered")
def latest(request, params: Query[PointParams]):
    scope = pages.scope_of(request, any_of=DATA_MODULES)
    points = filtered_points(scope, pages.filter_data(request))
    cursor = _checked_key(pages.cursor_of(request), 5)
    if cursor is not None:
        points = after_point(points, cursor, inclusive=True)
    return pages.answer(request, items=_latest(points, cursor), key=lambda item: item[0],
                        row=lambda item: item[1], columns=VALUE_COLUMNS, name="latest")  # fmt: skip


def _point(scope, pk: int) -> MeteringPoint:
    try:
        return gate.points(scope).select_related("subject", "supplier").get(pk=pk)
    except MeteringPoint.DoesNotExist:
        raise Http404("no such metering point in your scope") from None


@router.get("/{int:pk}", summary="One metering point")
def point_detail(request, pk: int):
    scope = pages.scope_of(request, any_of=DATA_MODULES)
    return point_row(_point(scope, pk))


@router.get("/{int:pk}/series", summary="One point's values over a period (newest revisions)")
def point_series(request, pk: int, params: Query[SeriesParams]):
    """Values in series order (quantity, interval, time); the period is Astana days `start`..`end`."""
    scope = pages.scope_of(request, any_of=DATA_MODULES)
    point = _point(scope, pk)
    data = pages.filter_data(request)
    selection, _points, period = selection_from(scope, data, point=point)
    if period.is_bound and not period.is_valid():
        raise HttpError(400, "; ".join(f"{k}: {' '.join(v)}" for k, v in period.errors.items()))
    query = reading_query(scope, selection)
    after = pages.cursor_of(request)
    try:
        rows = get_store().rows(query, order="series", after=after)
        first = next(rows, None)
    except ValueError as exc:
        raise HttpError(400, "the cursor is not one this API gave") from exc

    def items() -> Iterator[ReadingRow]:
        if first is not None:
            yield first
            yield from rows

    return pages.answer(request, items=items(), key=lambda row: row_order_key(row, "series"),
                        row=lambda row: value_row(row, point.pk), columns=VALUE_COLUMNS,
                        name=f"series-{point.pk}")  # fmt: skip
