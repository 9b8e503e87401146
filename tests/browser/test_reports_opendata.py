"""Browser walk-through of the reports library and open data, on a desktop and a phone.

The analyst (authorized body) opens the reports library, one report with its charts, and downloads
its Excel file; anyone, without signing in, reads /open/ in Kazakh and Russian. Screenshots go to
tests/browser/screenshots/reports-*.png and open-data-*.png.
"""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.browser.conftest import PHONE, _user, accessibility_problems, body_overflows, shot, sign_in


@pytest.fixture
def published(live_server, transactional_db):
    from egsu.access.roles import Role
    from egsu.opendata import services as opendata
    from egsu.registry.services import load_dictionaries
    from egsu.reporting import services as reporting
    from tests.reporting.regions import build_region_world

    load_dictionaries()
    world = build_region_world()
    reporting.plan_regular(world.today)  # built inline after the commit (the tests' queue)
    opendata.publish_all(today=world.today)
    return world, _user("analyst", Role.AUTHORITY)


def test_the_reports_library_and_a_report(new_page, published):
    page = new_page()
    sign_in(page, "analyst")
    page.goto("/cabinet/reports/?level=national")
    page.locator("table.reports tbody tr").first.wait_for()
    assert accessibility_problems(page) == []
    shot(page, "reports-library-desktop")
    page.get_by_role(
        "link", name="Turnover of crude oil, gas condensate, raw and commodity gas"
    ).first.click()
    page.locator(".js-plotly-plot").first.wait_for()
    assert accessibility_problems(page) == []
    shot(page, "reports-report-desktop")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download Excel").click()
    book = load_workbook(BytesIO(download.value.path().read_bytes()))
    assert book.worksheets[0]._charts
    phone = new_page(viewport=PHONE)
    sign_in(phone, "analyst")
    phone.goto("/cabinet/reports/")
    phone.locator("table.reports tbody tr").first.wait_for()
    assert body_overflows(phone) == 0
    shot(phone, "reports-library-phone")


@pytest.mark.parametrize(("locale", "heading"), [("kk-KZ", "Отын-энергетика"), ("ru-RU", "Открытые данные")])
def test_open_data_without_signing_in(new_page, published, locale, heading):
    page = new_page(locale=locale)
    page.goto("/open/")
    assert heading in page.locator("h1").inner_text()
    page.locator(".js-plotly-plot").first.wait_for()
    assert accessibility_problems(page) == []
    assert page.locator("td .muted").count() >= 4  # Region One and Two withheld, volume and mass
    shot(page, f"open-data-desktop-{locale[:2]}")
    phone = new_page(locale=locale, viewport=PHONE)
    phone.goto("/open/")
    phone.locator(".js-plotly-plot").first.wait_for()
    assert body_overflows(phone) == 0
    shot(phone, f"open-data-phone-{locale[:2]}")
