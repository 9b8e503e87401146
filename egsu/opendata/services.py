"""Publish open data (ACC-14, PRC-08): complete months' aggregates by region and energy, vetted cell
by cell (egsu.opendata.disclosure), written as the portal's JSON and as CSV under var/opendata/.

Only complete months are published: a month still filling in would, day after day, reveal each
day's increment, which one subject alone may make. Figures come from the readings store through
the gate, with the system's national scope; the public sees only what this job vetted.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from egsu.access import audit as audit_log
from egsu.access.audit import Event
from egsu.opendata.datasets import DATASETS, FIELDS, DataSet, passport
from egsu.opendata.disclosure import NATIONAL, Family, Member, protect
from egsu.opendata.models import Publication, PublishedCell
from egsu.reporting import figures
from egsu.reporting.definitions import month_start
from egsu.reporting.services import SYSTEM_SCOPE
from egsu.spreadsheets import csv_cell
from egsu_core.clock import astana_date, utcnow

MONTHS = 12  # how many complete months each publication holds


def opendata_dir() -> Path:
    directory = Path(settings.CONFIG.var_dir) / "opendata"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def responsible() -> dict:
    """Who answers for the data sets on the portal: the data operator (its address is the mail sender's)."""
    return {
        "fullnameKk": "ЕГСУ ТЭК деректер операторы", "fullnameRu": "Оператор данных ЕГСУ ТЭК",
        "fullnameEn": "EGSU data operator", "phone": "", "email": settings.DEFAULT_FROM_EMAIL,
    }  # fmt: skip


def months_to_publish(today: date, count: int = MONTHS) -> tuple[date, date]:
    """First day of the earliest and last day of the latest complete month before `today`."""
    end = month_start(today) - timedelta(days=1)
    start = month_start(end)
    for _step in range(count - 1):
        start = month_start(start - timedelta(days=1))
    return start, end


def families(dataset: DataSet, start: date, end: date) -> dict[tuple, Family]:
    """(month, energy, product, quantity) → the family of its regional cells and the national cell."""
    found: dict[tuple, Family] = {}
    for energy in dataset.energies:
        cells = figures.sums(SYSTEM_SCOPE, energy=energy, start=start, end=end, group="region", bucket="P1M")
        for cell in cells:
            key = (cell.bucket, energy, cell.product, cell.quantity, cell.unit)
            family = found.setdefault(key, Family())
            family.members[cell.group] = Member(cell.group, cell.total, frozenset(cell.subjects))
        for key, family in found.items():
            if key[1] != energy or NATIONAL in family.members:
                continue
            subjects = frozenset().union(*(m.subjects for m in family.members.values()))
            family.members[NATIONAL] = Member(NATIONAL, sum((m.value for m in family.members.values()), Decimal(0)),
                                              subjects)  # fmt: skip
    for family in found.values():
        protect(family)
    return found


def rows_of(found: dict[tuple, Family]) -> list[dict]:
    """The public rows, in the portal's field names; a withheld cell has no value."""
    rows = []
    for (month, energy, product, quantity, unit), family in sorted(found.items(), key=lambda kv: kv[0]):
        members = sorted(family.members.values(), key=lambda m: (m.name != NATIONAL, m.name))
        for member in members:
            rows.append({
                "period": f"{month:%Y-%m}", "level": "national" if member.name == NATIONAL else "regional",
                "region": member.name, "energy": energy, "product": product, "quantity": quantity, "unit": unit,
                "value": None if member.withheld else format(member.value, "f"),
                "withheld": "yes" if member.withheld else "no",
            })  # fmt: skip
    return rows


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[f.code for f in FIELDS], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {name: csv_cell(value) for name, value in row.items()}
        )  # region names are typed by people
    return out.getvalue()


@transaction.atomic
def publish(dataset_code: str, *, today: date | None = None) -> Publication:
    """Compute, vet and publish one data set; the new publication becomes the current one."""
    dataset = DATASETS[dataset_code]
    now = utcnow()
    start, end = months_to_publish(today or astana_date(now))
    found = families(dataset, start, end)
    rows = rows_of(found)
    stamp = now.strftime("%Y%m%dT%H%M%S")
    document = {**passport(dataset, updated_at=now.isoformat(timespec="seconds"), responsible=responsible()),
                "data": rows}  # fmt: skip
    json_name, csv_name = f"{dataset.code}/{stamp}.json", f"{dataset.code}/{stamp}.csv"
    (opendata_dir() / dataset.code).mkdir(parents=True, exist_ok=True)
    (opendata_dir() / json_name).write_text(
        json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (opendata_dir() / csv_name).write_text(to_csv(rows), encoding="utf-8")
    Publication.objects.filter(dataset=dataset.code, current=True).update(current=False)
    publication = Publication.objects.create(
        dataset=dataset.code, published_at=now, period_from=start, period_to=end, rows=len(rows),
        withheld=sum(1 for r in rows if r["value"] is None), json_file=json_name, csv_file=csv_name, current=True,
    )  # fmt: skip
    PublishedCell.objects.bulk_create([
        PublishedCell(
            publication=publication, period=date.fromisoformat(r["period"] + "-01"), level=r["level"],
            region=r["region"], energy=r["energy"], product=r["product"], quantity=r["quantity"], unit=r["unit"],
            value=None if r["value"] is None else Decimal(r["value"]), withheld=r["value"] is None,
        )
        for r in rows
    ], batch_size=2000)  # fmt: skip
    audit_log.audit(Event.OPEN_DATA_PUBLISHED, obj=publication, source="opendata.publish",
                    summary=f"{dataset.code}: {len(rows)} rows, {publication.withheld} withheld")  # fmt: skip
    return publication


def publish_all(*, today: date | None = None) -> list[Publication]:
    return [publish(code, today=today) for code in DATASETS]


def current(dataset_code: str) -> Publication | None:
    return Publication.objects.filter(dataset=dataset_code, current=True).first()
