"""The arrivals pages with AMI meters: the energy filter and meter rows on the subject page."""

from __future__ import annotations

from datetime import datetime

import pytest

from egsu.access.roles import Role
from egsu.ami.models import Meter
from egsu.points.services import refresh_points
from egsu_core.clock import ASTANA
from tests.points.conftest import make_meter as _meter


@pytest.fixture
def metered(world):
    meter = _meter(world.own, "TP-OWN", "E-OWN-1", "ACC-100", "Abay avenue 10", "Kazyna LLP")
    Meter.objects.filter(pk=meter.pk).update(created_at=datetime(2025, 6, 1, tzinfo=ASTANA))
    refresh_points(meters=Meter.objects.all())  # update() passes no signal
    return meter


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("energy", "expected"),
    [pytest.param("electricity", 96, id="electricity"), pytest.param("heat", None, id="heat-has-no-meters")],
)
def test_the_energy_filter_of_the_arrivals_page(metered, client_for, energy, expected):
    response = client_for(Role.OPERATOR).get(
        f"/cabinet/monitoring/?start=2025-06-02&end=2025-06-02&energy={energy}"
    )
    assert response.status_code == 200
    rows = {r.bin: r.expected for r in response.context["rows"]}
    assert rows.get(metered.subject.bin) == expected


@pytest.mark.django_db
def test_the_subject_page_links_its_meters(metered, client_for):
    response = client_for(Role.OPERATOR).get(
        f"/cabinet/monitoring/subjects/{metered.subject.bin}/?start=2025-06-02&end=2025-06-02"
    )
    assert response.status_code == 200
    assert f"/cabinet/monitoring/meters/{metered.pk}/".encode() in response.content
