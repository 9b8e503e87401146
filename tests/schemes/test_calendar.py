"""Working-day arithmetic over 2026 (OGM-05): holidays on weekends move their day off, a Government
transfer entered by the operator moves a working day; the review deadline equals the hand count."""

from __future__ import annotations

from datetime import date

from egsu import calendar_kz
from egsu.schemes.services import review_deadline, working_days_left
from egsu.workdays.models import DayTransfer, TransferYear
from egsu.workdays.services import unconfirmed_years


def test_a_year_of_working_days_and_a_deadline_counted_by_hand(db):
    # 2026 has 261 weekdays; 14 of them are days off by law, among them the days off moved from
    # holidays on weekends: 8 March (Sun) → 9 March, Nauryz 21–22 March (Sat–Sun) → 24–25 March,
    # 9 May (Sat) → 11 May, 25 October (Sun) → 26 October.
    assert calendar_kz.working_days_between(date(2026, 1, 1), date(2027, 1, 1)) == 247
    for moved in (
        date(2026, 3, 9),
        date(2026, 3, 24),
        date(2026, 3, 25),
        date(2026, 5, 11),
        date(2026, 10, 26),
    ):
        assert calendar_kz.day_type(moved) is calendar_kz.DayType.HOLIDAY, moved

    # By hand, received Friday 27 February 2026, counting from Monday 2 March: March 2–6 (5),
    # 10–13 (9; the 9th is off), 16–20 (14), 26–27 (16; 23–25 are Nauryz), 30–31 (18);
    # April 1–3 (21), 6–10 (26), 13–16 (30) → Thursday 16 April.
    assert review_deadline(date(2026, 2, 27)) == date(2026, 4, 16)

    # The operator enters the Government's transfer: Friday 3 April rested, Saturday 18 April worked.
    year, _ = TransferYear.objects.update_or_create(year=2026, defaults={"confirmed": True})
    DayTransfer.objects.create(
        year=year, day_off=date(2026, 4, 3), working_day=date(2026, 4, 18), source="test"
    )
    assert calendar_kz.day_type(date(2026, 4, 3)) is calendar_kz.DayType.TRANSFERRED_DAY_OFF
    assert calendar_kz.day_type(date(2026, 4, 18)) is calendar_kz.DayType.WORKING_WEEKEND
    assert calendar_kz.add_working_days(date(2026, 4, 17), 1) == date(2026, 4, 18)
    # By hand again: March as above (18); April 1–2 (20), 6–10 (25), 13–17 (30) → Friday 17 April.
    deadline = review_deadline(date(2026, 2, 27))
    assert deadline == date(2026, 4, 17)
    assert calendar_kz.working_days_between(date(2026, 1, 1), date(2027, 1, 1)) == 247  # one off, one on

    # Days left as the page shows them.
    assert working_days_left(deadline, date(2026, 4, 2)) == 10  # 6–10 and 13–17 April
    assert working_days_left(deadline, date(2026, 4, 17)) == 0
    assert working_days_left(deadline, date(2026, 4, 20)) == -2  # Saturday 18 April and Monday 20 worked


def test_the_next_year_is_entered_for_the_operator_to_confirm(db):
    assert TransferYear.objects.filter(year=2026, confirmed=True).exists()
    assert TransferYear.objects.filter(year=2027, confirmed=False).exists()
    assert unconfirmed_years(2026, 2027) == [2027]  # entered, the decree not checked: deadlines marked


def test_2027_states_its_source_and_a_deadline_in_it_is_marked_unconfirmed(world, client_for, drafted):
    from egsu.access.roles import Role
    from egsu.schemes.models import SchemeVersion

    year = TransferYear.objects.get(year=2027)
    assert not year.confirmed and "No Government decree on 2027 transfers" in year.source
    assert not DayTransfer.objects.filter(year=year).exists()  # no transfer invented
    received = date(2026, 12, 1)
    SchemeVersion.objects.filter(pk=drafted.pk).update(
        status="submitted", received_on=received, deadline=review_deadline(received)
    )
    assert review_deadline(received).year == 2027
    client = client_for(Role.SUBJECT)
    page = client.get(f"/cabinet/schemes/v/{drafted.pk}/")
    assert b'id="calendar-unconfirmed"' in page.content and b"2027" in page.content
    # the operator enters the decree (here: none moved a day) and ticks "decree checked": the mark goes
    year.confirmed, year.source = True, "Government decree (test)"
    year.save()
    assert b'id="calendar-unconfirmed"' not in client.get(f"/cabinet/schemes/v/{drafted.pk}/").content


def test_the_operator_page_lists_2027_as_unconfirmed_and_updates_it(world):
    from django.contrib.auth.models import User
    from django.test import Client

    admin = User.objects.create_superuser("root", "root@example.kz", "Root-password-123")
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/workdays/transferyear/").content.decode()
    assert "unconfirmed: no decree entered" in listing and "No Government decree on 2027 transfers" in listing
    year = TransferYear.objects.get(year=2027)
    form = {"year": "2027", "confirmed": "on", "source": "Government decree (test)", "note": "",
            "transfers-TOTAL_FORMS": "1", "transfers-INITIAL_FORMS": "0", "transfers-MIN_NUM_FORMS": "0",
            "transfers-MAX_NUM_FORMS": "1000", "transfers-0-day_off": "2027-01-08",
            "transfers-0-working_day": "2027-01-09", "transfers-0-source": "Government decree (test)"}  # fmt: skip
    answer = client.post(f"/admin/workdays/transferyear/{year.pk}/change/", form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert calendar_kz.day_type(date(2027, 1, 8)) is calendar_kz.DayType.TRANSFERRED_DAY_OFF
    assert "confirmed by the decree" in client.get("/admin/workdays/transferyear/").content.decode()
