"""/api/open/v1/: the published open data, read-only, to anyone (ACC-14). OpenAPI at v1/openapi.json,
docs at v1/docs (assets served locally). Only what the publishing job vetted is ever answered."""

from __future__ import annotations

import json
from datetime import date

from django.http import Http404, HttpResponse
from ninja import NinjaAPI, Query, Schema

from egsu.opendata import services
from egsu.opendata.datasets import DATASETS, passport
from egsu.opendata.models import PublishedCell

api = NinjaAPI(
    title="EGSU open data",
    version="open/1",
    description="Aggregates of the fuel and energy complex by month, region and energy, published by the "
    "authorized body (ACC-14). A cell made up of fewer than three subjects is withheld (value null, "
    'withheld "yes"). No sign-in; read-only.',
    urls_namespace="open-api",
    openapi_url="/v1/openapi.json",
    docs_url="/v1/docs",
)

MAX_LIMIT = 5000


class FieldOut(Schema):
    code: str
    type: str
    pk: bool
    labelKk: str  # noqa: N815 - the portal's field names
    labelRu: str  # noqa: N815
    labelEn: str  # noqa: N815
    format: str | None = None


class DataSetOut(Schema):
    apiUri: str  # noqa: N815
    version: str
    nameKk: str  # noqa: N815
    nameRu: str  # noqa: N815
    nameEn: str  # noqa: N815
    descriptionKk: str  # noqa: N815
    descriptionRu: str  # noqa: N815
    descriptionEn: str  # noqa: N815
    keywords: str
    responsible: dict
    fields: list[FieldOut]
    updatedAt: str | None  # noqa: N815
    rows: int = 0
    withheld: int = 0


class RowOut(Schema):
    period: str
    level: str
    region: str
    energy: str
    product: str
    quantity: str
    unit: str
    value: str | None
    withheld: str


class DataOut(Schema):
    apiUri: str  # noqa: N815
    updatedAt: str | None  # noqa: N815
    count: int
    data: list[RowOut]


class DataFilter(Schema):
    period: str | None = None  # YYYY-MM
    region: str | None = None
    energy: str | None = None
    level: str | None = None
    limit: int = 1000
    offset: int = 0


def _dataset_out(code: str) -> dict:
    publication = services.current(code)
    updated = publication.published_at.isoformat(timespec="seconds") if publication else None
    return {**passport(DATASETS[code], updated_at=updated, responsible=services.responsible()),
            "rows": publication.rows if publication else 0, "withheld": publication.withheld if publication else 0}  # fmt: skip


def _known(code: str) -> None:
    if code not in DATASETS:
        raise Http404("no such data set")


@api.get("/v1/datasets", response=list[DataSetOut], summary="Every data set with its passport")
def datasets(request):
    return [_dataset_out(code) for code in DATASETS]


@api.get(
    "/v1/datasets/{code}",
    response=DataSetOut,
    summary="One data set's passport (the portal's meta information)",
)
def dataset(request, code: str):
    _known(code)
    return _dataset_out(code)


def _cells(code: str, filters: DataFilter):
    publication = services.current(code)
    if publication is None:
        return None, PublishedCell.objects.none()
    cells = publication.cells.all()
    if filters.period:
        try:
            month = date.fromisoformat(filters.period + "-01")
        except ValueError as exc:
            raise Http404("period is YYYY-MM") from exc
        cells = cells.filter(period=month)
    for name in ("region", "energy", "level"):
        value = getattr(filters, name)
        if value is not None:
            cells = cells.filter(**{name: value})
    return publication, cells


def _row(cell: PublishedCell) -> dict:
    return {"period": f"{cell.period:%Y-%m}", "level": cell.level, "region": cell.region, "energy": cell.energy,
            "product": cell.product, "quantity": cell.quantity, "unit": cell.unit,
            "value": None if cell.value is None else format(cell.value.normalize(), "f"),
            "withheld": "yes" if cell.withheld else "no"}  # fmt: skip


@api.get("/v1/datasets/{code}/data", response=DataOut, summary="Published rows, filtered and paged")
def data(request, code: str, filters: Query[DataFilter]):
    _known(code)
    publication, cells = _cells(code, filters)
    limit = max(1, min(filters.limit, MAX_LIMIT))
    page = cells[max(0, filters.offset) : max(0, filters.offset) + limit]
    return {"apiUri": code, "updatedAt": publication.published_at.isoformat(timespec="seconds") if publication else None,
            "count": cells.count(), "data": [_row(c) for c in page]}  # fmt: skip


@api.get("/v1/datasets/{code}/data.csv", summary="The whole published data set as CSV")
def data_csv(request, code: str):
    _known(code)
    publication = services.current(code)
    text = ""
    if publication is not None:
        text = (services.opendata_dir() / publication.csv_file).read_text(encoding="utf-8")
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{code}.csv"'
    return response


@api.get(
    "/v1/datasets/{code}/portal.json", summary="The data set as sent to the open-data portal (meta and data)"
)
def portal_json(request, code: str):
    _known(code)
    publication = services.current(code)
    if publication is None:
        document = {**_dataset_out(code), "data": []}
        body = json.dumps(document, ensure_ascii=False)
    else:
        body = (services.opendata_dir() / publication.json_file).read_text(encoding="utf-8")
    return HttpResponse(body, content_type="application/json; charset=utf-8")
