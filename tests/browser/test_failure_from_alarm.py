"""Browser: a subject's user in Kazakh opens a device-fault alarm and declares the device failed (DIG-45);
the replacement clock starts and the page says by when the device is to be replaced."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.browser.conftest import _user, accessibility_problems, sign_in


@pytest.fixture
def fault(live_server, transactional_db):
    from egsu.access.roles import Role
    from egsu.alarms import services
    from egsu.points.models import MeteringPoint
    from egsu.registry.services import load_dictionaries
    from tests.registry.factories import make_device, make_facility, make_product_type, make_subject

    load_dictionaries()
    make_product_type()
    subject = make_subject(name="Демо Мұнай ЖШС", region="Атырау облысы")
    device = make_device(make_facility("A100", kind="1.2", subject=subject, name="Резервуар паркі"), "1",
                         device_type_id=1, product_type_id=1, serial_number="SN-1")  # fmt: skip
    point = MeteringPoint.objects.get(device=device)
    alarm = services.raise_alarm(source="device_status", key="A100/1", severity="warning",
                                 title="The device reports a fault (deviceStatus = no)", point=point,
                                 at=datetime(2026, 11, 20, 4, 0, tzinfo=UTC))  # fmt: skip
    user = _user("subject-kk", Role.SUBJECT, [subject])
    user.profile.language = "kk"
    user.profile.save()
    return alarm


def test_a_subject_declares_the_device_of_an_alarm_failed_in_kazakh(new_page, fault):
    from egsu.schemes.models import Failure

    page = new_page(locale="kk-KZ")
    sign_in(page, "subject-kk")
    page.goto(f"/cabinet/alarms/{fault.pk}/")
    page.get_by_role("heading", name="Аспаптың ақауын тіркеу").wait_for()
    assert page.locator("#failed-on").input_value() == "2026-11-20"  # the alarm's first day
    page.locator("#failure-note").fill("Датчик істен шықты")
    assert accessibility_problems(page) == []
    page.get_by_role("button", name="Ақауды тіркеу").click()
    page.locator("#replacement-clock").wait_for()
    assert "20.12.2026" in page.locator("#replacement-clock").inner_text()
    assert "20.12.2026" in page.locator("ul.messages").inner_text()
    failure = Failure.objects.get()
    assert (failure.source, failure.note) == ("alarm", "Датчик істен шықты")
