"""The balance page draws its chart, and the data-quality page reads well, in a real browser (issue 14)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from egsu.access.roles import Role
from egsu.vee import services
from tests.balances.conftest import feeder, oil  # noqa: F401 - shared fixtures
from tests.browser.conftest import PHONE, accessibility_problems, body_overflows, shot
from tests.cabinet.conftest import PASSWORD, START, world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/?next=/cabinet/")
    page.locator("#id_username").press_sequentially(username)
    page.locator("#id_password").press_sequentially(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/cabinet/")


def test_balance_chart_and_findings_page(new_page, oil, feeder):  # noqa: F811
    services.run_window(START, START + timedelta(days=3), now=START + timedelta(days=3))
    for viewport, name in ((None, "desktop"), (PHONE, "phone")):
        page = new_page(viewport=viewport) if viewport else new_page()
        sign_in(page, oil.users[Role.OPERATOR].username)
        page.goto(f"/cabinet/balances/?balance=oil:{oil.own.bin}&start=2025-06-02&end=2025-06-03")
        page.wait_for_selector("#balance-chart .main-svg")
        assert page.locator("table.balance tbody tr.alarm").count() == 1  # 3 June does not close
        assert accessibility_problems(page) == [] and body_overflows(page) == 0
        if name == "desktop":
            shot(page, "operator-balance")
        page.goto("/cabinet/balances/?balance=object:F-1&start=2025-06-02&end=2025-06-02")
        page.wait_for_selector("#balance-chart .main-svg")
        page.goto("/cabinet/quality/")
        assert page.locator("table.scores tbody tr").count() >= 1
        assert accessibility_problems(page) == [] and body_overflows(page) == 0
