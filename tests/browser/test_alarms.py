"""Browser walk-through of the alarms page in Russian (MON-05..08): the operator filters the open
critical alarms, opens one, acknowledges it with a comment, and sees the badge go down. Screenshots:
tests/browser/screenshots/alarms-list-ru.png and alarms-detail-ru.png."""

from __future__ import annotations

import pytest

from tests.browser.conftest import _user, accessibility_problems, shot, sign_in


@pytest.fixture
def alarms(live_server, transactional_db):
    from egsu.access.roles import Role
    from egsu.alarms import services
    from egsu.registry.services import load_dictionaries
    from tests.registry.factories import make_subject

    load_dictionaries()
    subject = make_subject(name="Демо Мунай ТОО", region="Атырауская область")
    cover = services.raise_alarm(source="meter_event", key="m1:TERMINAL_COVER_OPENED", severity="critical",
                                 title="Terminal cover opened", subject=subject,
                                 evidence={"event": "TERMINAL_COVER_OPENED", "serial_number": "E0000001"})  # fmt: skip
    services.raise_alarm(source="missing_data", key=f"subject:{subject.bin}", severity="warning",
                         title="Data missing past the grace time", subject=subject)  # fmt: skip
    user = _user("operator", Role.OPERATOR)
    user.profile.language = "ru"
    user.profile.save()
    return cover


def test_the_operator_acknowledges_an_alarm_in_russian(new_page, alarms):
    page = new_page(locale="ru-RU")
    sign_in(page, "operator")
    page.goto("/cabinet/alarms/?state=open")
    assert page.locator(".alarm-badge .count").inner_text() == "2"
    page.locator("#id_severity").select_option("critical")
    page.get_by_role("button", name="Фильтр").click()
    page.locator("table.alarms tbody tr").first.wait_for()
    assert page.locator("table.alarms tbody tr").count() == 1
    assert accessibility_problems(page) == []
    shot(page, "alarms-list-ru")
    page.get_by_role("link", name="Вскрытие клеммной крышки").click()
    page.locator("#ack-comment").fill("Бригада выехала")
    page.get_by_role("button", name="Принять").click()
    page.get_by_text("Тревога принята.").wait_for()
    assert page.locator(".alarm-badge .count").inner_text() == "1"
    assert accessibility_problems(page) == []
    shot(page, "alarms-detail-ru")
