"""A browser (Debian Chromium driven by Playwright) and a small national picture sent through the real intake.

The picture, on the demo registry (egsu.registry.demo), with Astana days:

- Demo Munai (the demo sender) has two devices installed today; every slot of today that is due
  arrived five minutes after it was due, signed: complete and on time.
- Demo Gas (its own connected system) has two devices installed yesterday; it sent yesterday's
  data only now, signed: late, and half of one device's slots and all of today's are missing.
- Demo Transport has one facility installed yesterday and sent nothing: all missing.

Every other demo facility is inactive, so it owes nothing and the numbers stay small.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "browser-Walk-Through-1"
GAS_SENDER = "demo-gas"
GAS_PASSWORD = "demo-gas-password-1"

# The facilities that stay active (object id → who owns it in the demo): see the module docstring.
MUNAI_FACILITIES = ("407001", "407004")
GAS_FACILITY = "802001"
TRANSPORT_FACILITY = "702001"
GAS_FULL_DEVICE, GAS_HALF_DEVICE = "1", "2"
GAS_HALF_SLOTS = 6  # of the 12 two-hourly slots of yesterday, the first six came


def volume_at(hour: int) -> Decimal:
    """What Demo Gas's full device reported for the slot starting at this Astana hour yesterday."""
    return Decimal("1000.5") + hour * 10


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium to run the browser walk-through")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django would then refuse the ORM calls
    # the tests make between browser steps. Nothing here is async code, so allow them while it runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server):
    """new_page(locale=..., viewport=...) → a page in a fresh context (own cookies), closed afterwards."""
    contexts = []

    def make(*, locale: str = "en-GB", viewport: dict = DESKTOP):
        context = browser.new_context(
            base_url=live_server.url, locale=locale, viewport=viewport, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> Path:
    """Save what the reviewer should look at: tests/browser/screenshots/<role>-<step>.png (overwritten)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sign_in(page, username: str) -> None:
    """Through the login form, typing, as a person does."""
    page.goto("/accounts/login/?next=/cabinet/")
    page.locator("#id_username").press_sequentially(username)
    page.locator("#id_password").press_sequentially(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/cabinet/")


# ------------------------------------------------------------------ accessibility, per page visited

A11Y_PROBLEMS = """() => {
  const problems = [];
  const lang = document.documentElement.getAttribute("lang");
  if (!lang) problems.push("html has no lang");
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) problems.push(`${h1} h1 elements`);
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`img without alt: ${img.src}`);
  }
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden" || el.closest(".js-plotly-plot")) continue;
    const byFor = el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
    const named = el.closest("label") || byFor || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!named) problems.push(`unlabelled ${el.tagName.toLowerCase()} name=${el.name}`);
  }
  return problems;
}"""


def accessibility_problems(page) -> list[str]:
    """Every input labelled, images with alt, exactly one h1, and lang set on <html>."""
    return page.evaluate(A11Y_PROBLEMS)


def body_overflows(page) -> int:
    """How many CSS pixels the page body scrolls sideways (0: tables scroll inside their .table-wrap)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


# ------------------------------------------------------------------ the national picture


@dataclass
class Picture:
    stand: dict
    today: date
    yesterday: date
    munai: object
    gas: object
    transport: object
    users: dict  # name → User
    munai_slots_expected: int  # today's slots Demo Munai sent that the arrivals page already expects
    gas_on_time: int  # of Demo Gas's 19 slots of yesterday, those still within their grace when sent


def _answer_code(answer) -> str:
    root = etree.fromstring(answer.body)
    return root.findtext(".//errorCode") or root.findtext(".//responseInfo/status/code") or ""


def _send(records, *, identity, sender_id: str, password: str, at: datetime | None = None) -> None:
    from egsu.intake.services import receive
    from egsu_core.pki.sendmessage import signed_send_message
    from tests.intake.conftest import events, new_message_id

    body = signed_send_message(
        events(records), identity=identity, message_id=new_message_id(), sender_id=sender_id,
        password=password, message_date=at,
    )  # fmt: skip
    code = _answer_code(receive(body, now=at))
    assert code == "SCSS001", f"the intake refused the test data: {code}"


def _backdated_identity(bin_: str, name: str):
    """A signing certificate valid since yesterday, so today's slots can be sent at their due time."""
    from egsu.signatures import services as signatures
    from egsu_core.clock import utcnow
    from egsu_core.pki.keys import load_identity

    ca = signatures.test_ca()
    with signatures.pki_lock():
        issued = ca.issue_subject(
            bin_, name, "TESTOV TEST", "800101300123", not_before=utcnow() - timedelta(hours=23)
        )
    return load_identity(issued.key_pem, issued.cert_pem)


def _user(username: str, role: str | None, subjects=()):
    from django.contrib.auth.models import User

    from egsu.access.models import Profile

    user = User.objects.create_user(username, f"{username}@example.kz", PASSWORD, first_name=username)
    Profile.objects.create(user=user, role=role, language="en").subjects.set(subjects)
    return user


def build_picture(stand: dict) -> Picture:
    from egsu.access.roles import Role
    from egsu.monitoring.expectations import grace
    from egsu.monitoring.slots import SlotInterval, day_slots, slots_between
    from egsu.points.services import refresh_all
    from egsu.registry.models import Device, Facility, Service, Subject
    from egsu_core.clock import astana_date, utcnow
    from tests.intake.conftest import DEMO_PASSWORD, device_record, subject_identity
    from tests.registry.factories import make_system

    now = utcnow()
    today = astana_date(now)
    yesterday = today - timedelta(days=1)
    manifest = {f["id"]: f for f in [*stand["facilities"], *stand["foreignFacilities"]]}
    kept = {*MUNAI_FACILITIES, GAS_FACILITY, TRANSPORT_FACILITY}
    Facility.objects.exclude(object_id__in=kept).update(active=False)
    Device.objects.filter(facility__object_id__in=MUNAI_FACILITIES).update(installed_at=today)
    Device.objects.filter(facility__object_id__in=[GAS_FACILITY, TRANSPORT_FACILITY]).update(
        installed_at=yesterday
    )
    refresh_all()  # update() passes no signal: the metering points follow the registry here
    munai = Subject.objects.get(bin=manifest[MUNAI_FACILITIES[0]]["subject_bin"])
    gas = Subject.objects.get(bin=manifest[GAS_FACILITY]["subject_bin"])
    transport = Subject.objects.get(bin=manifest[TRANSPORT_FACILITY]["subject_bin"])

    # Demo Munai: every due slot of today, each sent five minutes after it was due (on time).
    identity = _backdated_identity(munai.bin, munai.name)
    due = slots_between(SlotInterval.TWO_HOURS, today, today, due_by=now)
    # Expected once past the grace (30 minutes); five more cover the test's own run time.
    expected = len(slots_between(SlotInterval.TWO_HOURS, today, today, due_by=now - timedelta(minutes=35)))
    for slot in due:
        records = []
        for object_id in MUNAI_FACILITIES:
            facility = manifest[object_id]
            records += [
                device_record(facility, device, period_start=slot.period_start, is_daily=False)
                for device in facility["devices"]
            ]
        _send(records, identity=identity, sender_id=stand["senderId"], password=DEMO_PASSWORD,
              at=min(slot.due_at + timedelta(minutes=5), now))  # fmt: skip

    # Demo Gas: yesterday's data, sent now (late); the second device only half of it.
    make_system(GAS_SENDER, GAS_PASSWORD, subject=gas, require_business_signature=False)
    assert Service.objects.filter(systems__sender_id=GAS_SENDER).exists()
    facility = manifest[GAS_FACILITY]
    full, half = (
        next(d for d in facility["devices"] if d["deviceNameId"] == n)
        for n in (GAS_FULL_DEVICE, GAS_HALF_DEVICE)
    )
    records, dues = [], []
    for number, slot in enumerate(day_slots(SlotInterval.TWO_HOURS, yesterday)):
        hour = number * 2
        values = {"tankLevel": Decimal("250.25") + hour, "volume": volume_at(hour)}
        records.append(
            device_record(facility, full, period_start=slot.period_start, is_daily=False, values=values)
        )
        dues.append(slot.due_at)
        if number < GAS_HALF_SLOTS:
            records.append(device_record(facility, half, period_start=slot.period_start, is_daily=False))
            dues.append(slot.due_at)
    (daily,) = day_slots(SlotInterval.DAY, yesterday)
    records.append(device_record(facility, full, period_start=daily.period_start, is_daily=True))
    dues.append(daily.due_at)
    # Late, but in the first half hour of an Astana day yesterday's last slots are still within their grace.
    sent = utcnow()
    gas_on_time = sum(1 for due in dues if sent <= due + grace())
    _send(records, identity=subject_identity(stand, gas.bin), sender_id=GAS_SENDER, password=GAS_PASSWORD,
          at=sent)  # fmt: skip

    users = {
        "operator": _user("operator", Role.OPERATOR),
        "analyst": _user("analyst", Role.AUTHORITY),
        "gas-user": _user("gas-user", Role.SUBJECT, [gas]),
        "munai-user": _user("munai-user", Role.SUBJECT, [munai]),
    }
    return Picture(stand, today, yesterday, munai, gas, transport, users, expected, gas_on_time)


@pytest.fixture
def picture(live_server, transactional_db) -> Picture:
    from egsu.registry.demo import load_demo_registry
    from egsu.signatures.stand import equip
    from tests.intake.conftest import DEMO_PASSWORD

    stand = equip(load_demo_registry(password=DEMO_PASSWORD), base_url=live_server.url)
    return build_picture(stand)
