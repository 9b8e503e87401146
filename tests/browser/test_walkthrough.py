"""Issue 5 "Done when": Debian Chromium walks each role through its day, and saves screenshots.

1. The data operator signs in, finds the late subject on the arrivals page, opens its page and a
   device, reads the chart and table, exports them to Excel and PDF (the Excel numbers are the
   table's) and proposes a correction of one reading (Rules §53).
2. The subject user agrees it, downloads the act, and sees the corrected value marked so.
3. The analyst (authorized body) views the national totals.
4. A subject user is refused another subject's device (the browser gets the 404 page).
5. The language switcher: Kazakh by default, then Russian and English (<html lang>).
6. On a phone: no sideways scroll of the page, the menu reachable; the keyboard reaches the menu and
   the main action with a visible focus.

Each page visited gets a small accessibility check (labels, alt, one h1, lang). Screenshots go to
tests/browser/screenshots/<role>-<step>.png. Data comes from tests/browser/conftest.py (`picture`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO

from openpyxl import load_workbook

from tests.browser.conftest import (
    GAS_FACILITY,
    GAS_FULL_DEVICE,
    GAS_HALF_SLOTS,
    PHONE,
    accessibility_problems,
    body_overflows,
    shot,
    sign_in,
    volume_at,
)

FOCUSED = """() => { const e = document.activeElement, s = getComputedStyle(e);
  return {text: (e.innerText || e.value || '').trim(), menu: !!e.closest('nav .menu'),
          primary: e.classList.contains('primary'),
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0}; }"""
CORRECTED_HOUR = 10
CORRECTED_VALUE = Decimal("1105.5")


def _go(page, locator) -> None:
    """Click something that loads a new page, and wait until it has."""
    with page.expect_navigation():
        locator.click()


def _checked(page) -> None:
    """The accessibility check every visited page gets."""
    assert accessibility_problems(page) == [], page.url


def _table(page, selector: str) -> list[list[str]]:
    return page.locator(f"{selector} tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))"
    )


def _arrivals_row(page, label: str) -> dict[str, str]:
    """One subject's row of the arrivals table, by column title."""
    titles = page.locator("main table thead th").all_inner_texts()
    for cells in _table(page, "main table"):
        if cells[0].startswith(label):
            return dict(zip(titles, cells, strict=True))
    raise AssertionError(f"{label} is not on the arrivals page")


def _gas_device(picture):
    from egsu.registry.models import Device

    return Device.objects.get(facility__object_id=GAS_FACILITY, device_id=GAS_FULL_DEVICE)


def _download(page, click) -> bytes:
    with page.expect_download() as info:
        click()
    return info.value.path().read_bytes()


def test_each_role_does_its_daily_work(picture, new_page):
    # ---- 1. the data operator
    page = new_page()
    sign_in(page, "operator")
    _checked(page)
    shot(page, "operator-1-signed-in")

    _go(page, page.get_by_role("navigation").get_by_role("link", name="Arrivals"))
    page.wait_for_selector("#completeness-chart .main-svg")
    _checked(page)
    gas = _arrivals_row(page, "Demo Gas")
    transport = _arrivals_row(page, "Demo Transport")
    sent = 12 + 1 + GAS_HALF_SLOTS  # yesterday's, sent today: late but for any still in their grace
    assert (gas["Late"], gas["On time"]) == (str(sent - picture.gas_on_time), str(picture.gas_on_time))
    if not picture.gas_on_time:  # in an Astana day's first half hour yesterday's last slots are not owed yet
        assert int(gas["Missing"]) >= 13 - GAS_HALF_SLOTS
    if picture.munai_slots_expected:  # none in the first hours of an Astana day
        munai = _arrivals_row(page, "Demo Munai")
        assert (munai["Late"], munai["Missing"], munai["Completeness, %"]) == ("0", "0", "100.0")
    assert (transport["Arrived"], transport["Missing"]) == ("0", transport["Expected"])
    shot(page, "operator-2-arrivals")

    _go(page, page.get_by_role("link", name="Demo Gas"))
    page.wait_for_url(f"**/cabinet/monitoring/subjects/{picture.gas.bin}/**")
    _checked(page)
    states = page.locator("table.owed tbody .status").all_inner_texts()
    assert states.count("late") == sent - picture.gas_on_time  # the owed table lists no slot on time
    assert "missing" in states
    shot(page, "operator-3-late-subject")

    _go(page, page.get_by_role("navigation").get_by_role("link", name="Metering points"))
    search = page.get_by_label("Search:", exact=True)
    search.fill(f"DEMO-{GAS_FACILITY}-0{GAS_FULL_DEVICE}")
    search.press("Enter")
    _go(page, page.get_by_role("link", name=f"{GAS_FACILITY}/{GAS_FULL_DEVICE}"))
    page.wait_for_selector("#chart-0 .main-svg")
    _checked(page)
    assert page.locator(".chart.js-plotly-plot").count() == 2  # tankLevel and volume
    rows = _table(page, "table.readings")
    assert len(rows) == 24  # 12 slots × 2 quantities, yesterday
    on_screen = {(r[0], r[3]): Decimal(r[4]) for r in rows}
    yesterday = picture.yesterday.isoformat()
    assert on_screen[(f"{yesterday} 10:00", "volume")] == volume_at(10)
    shot(page, "operator-4-device")

    xlsx = _download(page, lambda: page.get_by_role("button", name="Excel").click())
    sheet = load_workbook(BytesIO(xlsx), read_only=True).active
    lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    start = next(n for n, r in enumerate(lines) if r and r[0] == "Time") + 1
    exported = {}
    for line in lines[start:]:
        if not line or line[0] is None:
            break
        exported[(f"{line[0]:%Y-%m-%d %H:%M}", line[3])] = Decimal(str(line[4]))
    assert exported == on_screen
    pdf = _download(page, lambda: page.get_by_role("button", name="PDF").click())
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000

    _go(page, page.get_by_role("navigation").get_by_role("link", name="Corrections"))
    _checked(page)
    _go(page, page.get_by_role("link", name="Propose a correction"))
    page.get_by_label("Facility", exact=True).select_option(GAS_FACILITY)
    page.get_by_label("Device ID").fill(GAS_FULL_DEVICE)
    page.get_by_label("Quantity (empty: all)").fill("volume")
    page.get_by_label("Period from").fill(f"{yesterday}T{CORRECTED_HOUR:02d}:00")
    _go(page, page.get_by_role("button", name="Show values"))
    _checked(page)
    page.locator("#corrected-0").fill(str(CORRECTED_VALUE))
    page.get_by_label("Reason for the discrepancy").fill("The flow computer lost 5 m3 after a power cut.")
    shot(page, "operator-5-propose")
    _go(page, page.get_by_role("button", name="Propose to the subject"))
    page.wait_for_url(re.compile(r"/cabinet/corrections/\d+/$"))
    _checked(page)
    assert "was proposed to the subject" in page.locator(".messages").inner_text()
    shot(page, "operator-6-proposed")

    # ---- 2. the subject user agrees
    page = new_page()
    sign_in(page, "gas-user")
    _go(page, page.get_by_role("navigation").get_by_role("link", name="Corrections"))
    _checked(page)
    awaiting = page.locator("section.awaiting")
    assert awaiting.get_by_role("heading").inner_text() == "Awaiting your decision"
    shot(page, "subject-1-awaiting")
    _go(page, awaiting.get_by_role("link").first)
    _checked(page)
    _go(page, page.get_by_role("button", name="Agree"))
    assert "is agreed and the corrections are applied" in page.locator(".messages").inner_text()
    _checked(page)
    shot(page, "subject-2-agreed")
    # The act is served inline (Chromium shows it in its viewer, no download event): fetch the link
    # with the browser's own session, as its viewer does.
    act = page.request.get(page.get_by_role("link", name="Download the act (PDF)").get_attribute("href"))
    assert (act.status, act.headers["content-type"]) == (200, "application/pdf")
    assert act.body().startswith(b"%PDF-")

    _go(page, page.get_by_role("navigation").get_by_role("link", name="Readings"))
    page.get_by_label("Object code:", exact=True).fill(GAS_FACILITY)
    page.get_by_label("Quantity:", exact=True).select_option("volume")
    _go(page, page.get_by_role("button", name="Show"))
    _checked(page)
    corrected = page.locator("table.readings tbody tr.corrected")
    assert corrected.count() == 1
    cells = corrected.locator("td").all_inner_texts()
    assert (cells[0], cells[4], cells[6], cells[7]) == (
        f"{yesterday} {CORRECTED_HOUR:02d}:00",
        str(CORRECTED_VALUE),
        "corrected",
        "2",
    )
    corrected.scroll_into_view_if_needed()
    shot(page, "subject-3-corrected-value")

    # ---- 3. the analyst views national totals
    page = new_page()
    sign_in(page, "analyst")
    page.goto(
        f"/cabinet/totals/?start={yesterday}&end={picture.today.isoformat()}&quantity=volume&group=product"
    )
    page.wait_for_selector("#totals-chart-0 .main-svg")
    _checked(page)
    assert page.locator("h1").inner_text() == "National totals"
    totals = {(r[0], r[1]): Decimal(r[4]) for r in _table(page, "table.totals")}
    full_device = sum(volume_at(h) for h in range(0, 24, 2)) - volume_at(CORRECTED_HOUR) + CORRECTED_VALUE
    half_device = GAS_HALF_SLOTS * Decimal("106.7144")  # the sample volume (egsu_core.isun.samples)
    assert totals[(yesterday, "2 Gas condensate")] == full_device + half_device
    shot(page, "analyst-1-national-totals")


def test_a_subject_user_is_refused_another_subjects_device(picture, new_page):
    # given Demo Munai's device, and Demo Gas's user
    from egsu.registry.models import Device

    munai_device = Device.objects.filter(facility__subject=picture.munai, active=True).first()
    page = new_page()
    sign_in(page, "gas-user")
    # when the user opens that device page
    response = page.goto(f"/cabinet/points/{munai_device.metering_point.pk}/")
    # then the browser is answered 404 and shows it; its own device opens
    assert response.status == 404
    assert "Not found" in page.content()  # our 404 page, inside the cabinet layout (menu, language)
    assert page.locator("nav .menu").count() == 1
    shot(page, "subject-4-refused")
    assert page.goto(f"/cabinet/points/{_gas_device(picture).metering_point.pk}/").status == 200


def test_the_language_switcher(picture, new_page):
    # given a browser that asks for no language the system has (German), and an analyst whose
    # profile keeps the system's default language (Kazakh), applied at sign-in
    from egsu.access.models import Profile

    Profile.objects.filter(user__username="analyst").update(language="kk")
    page = new_page(locale="de-DE")
    sign_in(page, "analyst")
    page.goto("/cabinet/monitoring/")
    # then the page is Kazakh (the default); switching gives Russian, then English
    seen = {}
    for code in ("kk", "ru", "en"):
        if code != "kk":
            with page.expect_navigation():
                page.locator("#lang-select").select_option(code)
        seen[code] = (page.locator("html").get_attribute("lang"), page.locator("#lang-select").input_value())
        _checked(page)
        shot(page, f"analyst-2-language-{code}")
    assert seen == {"kk": ("kk", "kk"), "ru": ("ru", "ru"), "en": ("en", "en")}
    assert page.locator("h1").inner_text() == "Arrivals"
    Profile.objects.filter(user__username="analyst").update(language="en")


def test_on_a_phone_the_arrivals_page_and_the_keyboard(picture, new_page):
    page = new_page(viewport=PHONE)
    sign_in(page, "operator")
    # the arrivals page: no sideways scroll of the body (its table scrolls inside .table-wrap)
    page.goto("/cabinet/monitoring/")
    page.wait_for_selector("#completeness-chart .main-svg")
    assert body_overflows(page) == 0
    menu_link = page.get_by_role("navigation").get_by_role("link", name="Metering points")
    box = menu_link.bounding_box()
    assert menu_link.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    _checked(page)
    shot(page, "operator-7-phone-arrivals")

    # keyboard: Tab from the top reaches a menu link, then the main action, each with a visible focus
    reached = {}
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["menu"] and "menu" not in reached:
            reached["menu"] = focused
        if focused["primary"]:
            reached["primary"] = focused
            break
    assert reached["menu"]["outline"] and reached["primary"]["outline"]
    assert reached["primary"]["text"] == "Show"
    shot(page, "operator-9-keyboard-focus")


def test_on_a_phone_the_device_page(picture, new_page):
    page = new_page(viewport=PHONE)
    sign_in(page, "operator")
    page.goto(f"/cabinet/points/{_gas_device(picture).metering_point.pk}/")
    page.wait_for_selector("#chart-0 .main-svg")
    shot(page, "operator-8-phone-device")
    wrap = page.locator("table.readings").locator("xpath=..")
    assert wrap.evaluate("w => w.classList.contains('table-wrap')")
    assert body_overflows(page) == 0
