"""The points world (two subjects, their devices and meters, one user per role) with a token per role."""

from __future__ import annotations

import pytest
from django.test import Client

from egsu.api import tokens
from tests.cabinet.conftest import ROLES, START, world  # noqa: F401 - shared fixtures
from tests.points.conftest import meters  # noqa: F401

__all__ = ["ROLES", "START"]


@pytest.fixture
def api_tokens(world, meters):  # noqa: F811
    """role → a live personal token of that role's user ("anonymous" → None)."""
    found = {role: tokens.create_token(user, f"{role} script")[1] for role, user in world.users.items()}
    return {"anonymous": None, **found}


@pytest.fixture
def api_for(api_tokens):
    """api_for(role).get("/api/v1/…") with the role's Bearer token (none for anonymous)."""

    class Caller:
        def __init__(self, token: str | None) -> None:
            self.client, self.token = Client(), token

        def get(self, path: str, params: dict | None = None, **headers):
            if self.token:
                headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
            return self.client.get(path, params or {}, **headers)

    return lambda role: Caller(api_tokens[role])


def body(response):
    """The whole answer of a (streamed) response: JSON as an object, CSV as text."""
    import json

    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return json.loads(text) if response["Content-Type"].startswith("application/json") else text


@pytest.fixture
def other_meter_values(meters):  # noqa: F811
    """The other subject's meter measured too, so every point in the world has values."""
    from datetime import timedelta
    from decimal import Decimal

    from egsu.readings.services import get_store
    from egsu.readings.store import ReadingRow, SeriesKey

    other = meters["other"]
    get_store().write([
        ReadingRow(SeriesKey("TP-OTH", str(other.pk), "A+"), "PT15M", START + timedelta(minutes=15 * n),
                   Decimal("7.25") + n, "kWh", "good", "ami:hes:b2", True)
        for n in range(4)
    ])  # fmt: skip
    return meters


@pytest.fixture
def points_owing_for_days(world, other_meter_values):  # noqa: F811
    """The world's points owe data since three Astana days ago: a point registered today owes nothing
    due until its first slot's due time (02:30 Astana for two-hour data), so arrivals asked right after
    Astana midnight would have no expected slot at all (the test, not the System, depends on the hour)."""
    from datetime import timedelta

    from egsu.points.models import MeteringPoint
    from egsu_core.clock import astana_date, utcnow

    MeteringPoint.objects.update(owes_from=astana_date(utcnow()) - timedelta(days=3))
