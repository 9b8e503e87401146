"""Labels kept between reads (ClickHouse keeps them per registry stamp): a registry change is seen by the
very next read. On the ClickHouse pass every labelled read goes through the kept labels (the pass sets
`stored_labels_min` to 1, tests/conftest.py); on SQLite the same answers come from the registry each time."""

from __future__ import annotations

import pytest

from egsu.access.roles import Role
from egsu.points.models import MeteringPoint
from tests.api.conftest import body
from tests.api.test_matrix import PERIOD, VALUES
from tests.readings.store_backends import kept_labels

pytestmark = pytest.mark.django_db


def _regions(caller) -> dict[str, int]:
    # hours: the label query over the rows (`_label_sql`); whole days of finer values merge the rollup
    response = caller.get(
        "/api/v1/aggregates", {**PERIOD, "group": "region", "bucket": "PT1H", "limit": 1000}
    )
    assert response.status_code == 200
    counts: dict[str, int] = {}
    for row in body(response)["data"]:  # a row per quantity and month
        counts[row["key"]] = counts.get(row["key"], 0) + row["count"]
    return counts


def test_a_point_moved_to_another_region_is_seen_by_the_next_read(api_for, other_meter_values, request):
    store = request.getfixturevalue("_readings_backend_of_the_pass")
    national = api_for(Role.AUTHORITY)
    both = VALUES["A100/1"] + VALUES["E-OWN-1"]
    assert _regions(national) == {"Atyrau": both, "Mangystau": VALUES["B200/1"] + VALUES["E-OTH-1"]}
    assert _regions(national) == {"Atyrau": both, "Mangystau": VALUES["B200/1"] + VALUES["E-OTH-1"]}
    if store is not None:
        assert len(kept_labels(store)) == 2  # one table and its names, reused by the second read
    MeteringPoint.objects.filter(object_code="A100").update(region="Zhetisu")  # a bulk update: no signal
    assert _regions(national) == {
        "Atyrau": VALUES["E-OWN-1"],
        "Zhetisu": VALUES["A100/1"],
        "Mangystau": VALUES["B200/1"] + VALUES["E-OTH-1"],
    }
    if store is not None:
        assert len(kept_labels(store)) == 4  # the new stamp's table beside the old (dropped a period later)


def test_a_scope_changed_is_seen_by_the_next_read(api_for, world, other_meter_values):
    subject_user = world.users[Role.SUBJECT]
    caller = api_for(Role.SUBJECT)
    assert _regions(caller) == {"Atyrau": VALUES["A100/1"] + VALUES["E-OWN-1"]}
    subject_user.profile.subjects.add(world.other)
    assert _regions(caller) == {
        "Atyrau": VALUES["A100/1"] + VALUES["E-OWN-1"],
        "Mangystau": VALUES["B200/1"] + VALUES["E-OTH-1"],
    }
    subject_user.profile.subjects.remove(world.own)
    assert _regions(caller) == {"Mangystau": VALUES["B200/1"] + VALUES["E-OTH-1"]}
