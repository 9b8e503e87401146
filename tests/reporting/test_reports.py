"""Regular reports (ANA-05..07): planned once per period, built from the read path, drawn with charts in
the reader's language, kept in the library and mailed to subscribers the gate lets read them."""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from openpyxl import load_workbook

from egsu.access.models import Profile
from egsu.access.roles import Role
from egsu.mail.models import Mail
from egsu.reporting import services
from egsu.reporting.models import Report, Subscription
from egsu_core.clock import utcnow
from tests.reporting.regions import REGIONS, build_region_world

pytestmark = pytest.mark.django_db


def _reader(name: str, role: str, language: str = "ru", subjects=()) -> User:
    user = User.objects.create_user(name, f"{name}@example.kz", "x-Password-123")
    Profile.objects.create(user=user, role=role, language=language).subjects.set(subjects)
    return user


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """committed(f, *args): call f, then run what it queued after the commit (jobs run inline in tests)."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def _subscribe(user, kind="oil_gas_turnover", frequency="daily", level="national", area=""):
    return Subscription.objects.create(user=user, kind=kind, frequency=frequency, level=level, area=area,
                                       created_at=utcnow())  # fmt: skip


def test_the_planner_makes_each_report_once_and_the_figures_come_from_the_store(committed):
    world = build_region_world()
    made = committed(services.plan_regular, world.today)
    assert committed(services.plan_regular, world.today) == []  # once per period, however often it runs
    reports = Report.objects.filter(pk__in=made)
    # 3 kinds × 3 frequencies × (national + 3 regions); no subject subscribed, so no local report.
    assert reports.count() == 3 * 3 * (1 + len(REGIONS))
    assert set(reports.values_list("status", flat=True)) == {"built"}  # jobs run inline in tests
    monthly = reports.get(kind="oil_gas_turnover", frequency="monthly", level="national")
    start, end = world.last_month
    assert (monthly.period_start, monthly.period_end) == (start, end)
    by_group = {(r[0], r[2]): Decimal(r[4]) for r in monthly.figures["sections"][1]["rows"]}
    for region in REGIONS:
        expected = sum((world.subject_total(b, start, end) for b, (r, _s) in world.subjects.items() if r == region),
                       Decimal(0))  # fmt: skip
        assert by_group[(region, "volume")] == expected
    by_day = monthly.figures["sections"][2]
    assert by_day["chart"]["type"] == "line" and len(by_day["rows"]) == 2 * (end - start).days + 2
    regional = reports.get(kind="oil_gas_turnover", frequency="daily", level="regional", area="Region Three")
    yesterday = world.today.toordinal() - 1
    rows = regional.figures["sections"][1]["rows"]
    assert {r[0] for r in rows} == {s.name for b, (r, s) in world.subjects.items() if r == "Region Three"}
    assert all(r[0] != "" for r in rows) and yesterday


def test_files_have_charts_and_are_drawn_in_the_readers_language(committed):
    world = build_region_world()
    committed(services.plan_regular, world.today)
    report = Report.objects.get(kind="oil_gas_turnover", frequency="monthly", level="national")
    row = services.file_for(report, "ru", "xlsx")
    book = load_workbook(services.reports_dir() / row.file_name)
    assert all(sheet._charts for sheet in book.worksheets)  # a native chart on every section's sheet
    assert book.worksheets[0]["A2"].value == "Отчёт"
    pdf = services.file_for(report, "kk", "pdf")
    content = (services.reports_dir() / pdf.file_name).read_bytes()
    assert content.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is absent: the PDF's text is not checked")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout
    text = text.decode()
    assert (
        "Region Three" in text and "Есеп" in text
    )  # the chart's legend and axis labels and the Kazakh header


def test_subscribers_get_the_report_attached_in_their_language_and_only_if_the_gate_lets_them(committed):
    world = build_region_world()
    analyst = _reader("analyst-ru", Role.AUTHORITY, "ru")
    _subscribe(analyst)
    subject_bin = next(iter(world.subjects))
    subject_user = _reader("subject-kk", Role.SUBJECT, "kk", [world.subjects[subject_bin][1]])
    _subscribe(subject_user)  # a national report: the gate refuses it to a subject user
    _subscribe(subject_user, level="local", area=subject_bin)  # its own: allowed
    committed(services.plan_regular, world.today)
    national = Report.objects.get(kind="oil_gas_turnover", frequency="daily", level="national")
    mail = Mail.objects.get(recipient="analyst-ru@example.kz", dedupe_key=f"report:{national.pk}")
    assert mail.language == "ru" and mail.subject.startswith("Отчёт")
    assert sorted(a.file_name.rsplit(".", 1)[1] for a in mail.attachments.all()) == ["pdf", "xlsx"]
    own = Mail.objects.filter(recipient="subject-kk@example.kz")
    local = Report.objects.get(kind="oil_gas_turnover", frequency="daily", level="local", area=subject_bin)
    assert [m.dedupe_key for m in own] == [f"report:{local.pk}"]
    attachment = own[0].attachments.get(file_name__endswith=".xlsx")
    book = load_workbook(io.BytesIO(bytes(attachment.content)))
    assert book.worksheets[0]["A2"].value == "Есеп"
    services.deliver(national)  # delivering again mails nobody twice
    assert (
        Mail.objects.filter(recipient="analyst-ru@example.kz", dedupe_key=f"report:{national.pk}").count()
        == 1
    )


def test_an_urgent_report_is_built_at_once_by_the_alarm_hook(committed):
    world = build_region_world()
    analyst = _reader("urgent-reader", Role.AUTHORITY, "en")
    _subscribe(analyst, kind="arrivals", frequency="urgent")
    bin_ = next(iter(world.subjects))
    made = committed(services.on_critical_alarm, "Meter stopped sending", subject_bin=bin_, energy="oil_gas")
    assert [(r.kind, r.level) for r in made] == [
        ("oil_gas_turnover", "local"), ("oil_gas_turnover", "national"), ("arrivals", "local"), ("arrivals", "national"),
    ]  # fmt: skip
    assert all(r.frequency == "urgent" and r.period_start == world.today for r in made)
    assert {r.status for r in Report.objects.filter(pk__in=[r.pk for r in made])} == {"built"}
    assert Mail.objects.filter(recipient="urgent-reader@example.kz").count() == 1  # national arrivals
