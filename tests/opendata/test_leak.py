"""No subject-level figure leaks from open data (ACC-14): regions of one, two and three subjects.

Every published cell and every API answer is checked: a cell with a value is made up of at least three
subjects; the withheld cells of a family together hide at least three subjects (so national minus the
published regions reveals nobody's figure); no published number equals any single subject's figure.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.test import Client

from egsu.opendata import services
from egsu.opendata.datasets import DATASETS
from egsu.opendata.disclosure import MIN_SUBJECTS, Family, Member, protect
from egsu.opendata.models import PublishedCell
from tests.reporting.regions import REGIONS, build_region_world

OIL = "egsu_oil_gas_turnover_monthly"


@pytest.fixture
def published(db):
    world = build_region_world()
    services.publish_all(today=world.today)
    return world


def _subject_figures(world) -> set[Decimal]:
    start, end = world.last_month
    return {world.subject_total(b, start, end, q) for b in world.subjects for q in ("volume", "mass")}


def _members(world, region: str) -> set[str]:
    return {b for b, (r, _s) in world.subjects.items() if r == region}


def test_every_published_cell_is_made_of_three_subjects_or_withheld(published):
    world = published
    cells = list(PublishedCell.objects.filter(publication__current=True, publication__dataset=OIL))
    assert {c.region for c in cells if c.level == "regional"} == set(REGIONS)
    shown = {(c.region, c.quantity): c for c in cells}
    for region, count in REGIONS.items():
        for quantity in ("volume", "mass"):
            cell = shown[(region, quantity)]
            # Region One (1 subject) and Two (2) are withheld; Three (3) is shown: together the withheld
            # ones hide three subjects, so no complementary suppression is needed here.
            assert cell.withheld is (count < MIN_SUBJECTS), (region, quantity)
            assert (cell.value is None) is cell.withheld
    start, end = world.last_month
    national = shown[("", "volume")]
    assert national.value == sum((world.subject_total(b, start, end) for b in world.subjects), Decimal(0))
    three = shown[("Region Three", "volume")]
    assert three.value == sum(
        (world.subject_total(b, start, end) for b in _members(world, "Region Three")), Decimal(0)
    )
    # Nothing published equals one subject's figure, and differencing hides at least three subjects.
    leaks = _subject_figures(world) & {c.value for c in cells if c.value is not None}
    assert not leaks
    hidden = set().union(*(_members(world, c.region) for c in cells if c.withheld and c.level == "regional"))
    assert len(hidden) >= MIN_SUBJECTS


def test_every_api_answer_and_file_holds_only_vetted_cells(published):
    world = published
    client = Client()
    forbidden = {format(v, "f") for v in _subject_figures(world)} | {
        format(v.normalize(), "f") for v in _subject_figures(world)
    }
    answers = []
    listing = client.get("/api/open/v1/datasets")
    assert listing.status_code == 200
    answers.append(listing.content.decode())
    for code in DATASETS:
        for path in (f"/api/open/v1/datasets/{code}", f"/api/open/v1/datasets/{code}/data?limit=5000",
                     f"/api/open/v1/datasets/{code}/portal.json", f"/api/open/v1/datasets/{code}/data.csv"):  # fmt: skip
            response = client.get(path)
            assert response.status_code == 200, path
            answers.append(response.content.decode())
        for region in REGIONS:
            answers.append(
                client.get(f"/api/open/v1/datasets/{code}/data", {"region": region}).content.decode()
            )
    page = client.get("/open/")
    assert page.status_code == 200
    answers.append(page.content.decode())
    data = json.loads(client.get(f"/api/open/v1/datasets/{OIL}/data?limit=5000").content)["data"]
    assert data and all((row["value"] is None) == (row["withheld"] == "yes") for row in data)
    for row in data:
        if row["level"] == "regional" and REGIONS[row["region"]] < MIN_SUBJECTS:
            assert row["value"] is None
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/api/open/v1/datasets/{OIL}/data.csv").content.decode()))
    )
    assert [r["withheld"] for r in rows if r["region"] in ("Region One", "Region Two")] == ["yes"] * 4
    for text in answers:
        for figure in forbidden:
            assert f'"{figure}"' not in text and f",{figure}," not in text and f">{figure}<" not in text, (
                figure
            )


def test_the_portal_document_has_the_passport_and_the_update_date(published):
    document = json.loads(Client().get(f"/api/open/v1/datasets/{OIL}/portal.json").content)
    assert document["apiUri"] == OIL
    assert {"nameKk", "nameRu", "nameEn", "descriptionKk", "descriptionRu", "descriptionEn", "keywords",
            "responsible", "fields", "updatedAt", "data"} <= set(document)  # fmt: skip
    assert {f["code"] for f in document["fields"]} == set(document["data"][0])
    assert all({"type", "pk", "labelKk", "labelRu", "labelEn"} <= set(f) for f in document["fields"])


def test_the_open_pages_answer_without_sign_in(published):
    client = Client()
    assert client.get("/open/").status_code == 200
    assert client.get("/api/open/v1/docs").status_code == 200
    schema = client.get("/api/open/v1/openapi.json").json()
    assert "/api/open/v1/datasets/{code}/data" in schema["paths"]
    assert client.post("/api/open/v1/datasets").status_code == 405  # read-only


@pytest.mark.parametrize(
    ("sizes", "withheld"),
    [
        ({"a": 1, "b": 5, "c": 6}, {"a", "b"}),  # one region of one: a second is withheld with it
        ({"a": 1, "b": 1, "c": 1}, {"a", "b", "c"}),  # all of them, the national one is made of three
        ({"a": 1, "b": 2, "c": 4}, {"a", "b"}),  # one and two: three hidden together
        ({"a": 2}, {"a", ""}),  # a region alone: the national cell is its figure
        ({"a": 3, "b": 4}, set()),
    ],
    ids=["one-plus-complement", "all-single", "one-and-two", "single-region", "nothing"],
)
def test_complementary_suppression(sizes, withheld):
    family = Family()
    bins = iter(range(100))
    everyone = set()
    for name, count in sizes.items():
        members = frozenset(str(next(bins)) for _n in range(count))
        everyone |= members
        family.members[name] = Member(name, Decimal(10 * count), members)
    family.members[""] = Member("", Decimal(sum(10 * c for c in sizes.values())), frozenset(everyone))
    protect(family)
    assert {m.name for m in family.members.values() if m.withheld} == withheld
