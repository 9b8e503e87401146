"""Exports of what is on screen (issue 5 item 4): the authorization matrix, same numbers as the screen,
files that LibreOffice and poppler open, progress of large exports, and the audit of every export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from egsu.access.models import AuditEvent
from egsu.access.roles import Role
from egsu.readings.services import get_store
from egsu.readings.store import ReadingRow, SeriesKey
from egsu.reports import fonts, services
from egsu.reports.models import ExportJob
from tests.cabinet.conftest import ROLES, START
from tests.registry.factories import make_device, make_facility
from tests.reports.helpers import libreoffice_csv, run, tool, xlsx_blocks

PERIOD = {"start": "2025-06-01", "end": "2025-06-03", "interval": "PT2H"}
REFUSED = {"anonymous": 302, "no-role": 403, Role.STATE_BODY: 403, Role.SUBSCRIBER: 403}


@pytest.fixture(autouse=True)
def _exports_dir(settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"


def _exports() -> int:
    return AuditEvent.objects.filter(event="data.export").count()


def _screen_rows(client, query) -> tuple[list, list]:
    """Every row of the readings screen, page by page, and its summary."""
    rows, page = [], 1
    while True:
        response = client.get("/cabinet/readings/", {**query, "page": page})
        rows += response.context["rows"]
        if not response.context["page"].has_next():
            return rows, response.context["stats"]
        page += 1


# ------------------------------------------------------------------ authorization matrix


@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_the_export_authorization_matrix(world, client_for, role, whose, fmt):
    device = world.own_device if whose == "own" else world.other_device
    before = (_exports(), ExportJob.objects.count())
    response = client_for(role).post(
        "/cabinet/exports/new/",
        {"what": "readings", "format": fmt, **PERIOD, "point": device.metering_point.pk},
    )
    expected = REFUSED.get(role, 404 if (role == Role.SUBJECT and whose == "other") else 200)
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Disposition"].startswith('attachment; filename="egsu-readings-')
        assert (_exports(), ExportJob.objects.count()) == (before[0] + 1, before[1])
    else:  # a refused export leaves no file, no job and no audit entry behind
        assert (_exports(), ExportJob.objects.count()) == before


@pytest.mark.parametrize(
    ("what", "fmt"), [("nothing", "xlsx"), ("readings", "docx")], ids=["unknown-kind", "unknown-format"]
)
def test_an_unknown_export_is_not_found(world, client_for, what, fmt):
    response = client_for(Role.OPERATOR).post("/cabinet/exports/new/", {"what": what, "format": fmt})
    assert response.status_code == 404 and _exports() == 0


def test_an_export_is_a_post(world, client_for):
    assert client_for(Role.OPERATOR).get("/cabinet/exports/new/").status_code == 405


@pytest.fixture
def jobs(world, monkeypatch, django_capture_on_commit_callbacks):
    """One finished job made by the subject user (own data), one by the operator (both subjects)."""
    monkeypatch.setattr(services, "DIRECT_LIMIT", 0)
    made = {}
    for key, role, params in (
        ("own", Role.SUBJECT, {**PERIOD, "point": str(world.own_device.metering_point.pk)}),
        ("other", Role.OPERATOR, PERIOD),
    ):
        user = world.users[role]
        from egsu.access.scope import scope_for

        with django_capture_on_commit_callbacks(execute=True):
            job = services.start_export(user, scope_for(user), "readings", "xlsx", params)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.DONE
        made[key] = job
    return made


@pytest.mark.parametrize("page", ["", "status.json", "download/"], ids=["job", "status", "download"])
@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_the_job_pages_authorization_matrix(jobs, client_for, role, whose, page):
    # given a job of the subject user (own) and one of the operator (other)
    job = jobs[whose]
    # when each role asks for its page, its status or its file
    response = client_for(role).get(f"/cabinet/exports/{job.pk}/{page}")
    # then only the creator and the national roles get it
    creator = Role.SUBJECT if whose == "own" else Role.OPERATOR
    allowed = role in (creator, Role.AUTHORITY, Role.OPERATOR)
    assert response.status_code == REFUSED.get(role, 200 if allowed else 404)


# ------------------------------------------------------------------ same numbers as the screen


def test_the_xlsx_holds_every_row_and_the_totals_of_the_screen(world, client_for):
    client = client_for(Role.OPERATOR)
    screen, stats = _screen_rows(client, PERIOD)
    response = client.post("/cabinet/exports/new/", {"what": "readings", "format": "xlsx", **PERIOD})
    header, data, totals = xlsx_blocks(response.content)
    assert len(screen) == len(data) == 144
    assert [(r.object_id, r.device_id, r.quantity, Decimal(str(r.value)), r.revision) for r in screen] == [
        (row[1], row[2], row[3], Decimal(str(row[4])), row[7]) for row in data
    ]
    assert data[0][0].strftime("%Y-%m-%d %H:%M") == "2025-06-01 00:00"  # Astana time
    assert [(t[0], Decimal(str(t[3])), Decimal(str(t[4])), Decimal(str(t[5]))) for t in totals] == [
        (s.quantity, s.total, s.maximum, s.minimum) for s in stats
    ]
    assert header["Exported by"] == "operator (operator)"
    assert header["Period"] == "2025-06-01 – 2025-06-03"
    assert "Exported at (Astana time)" in header


def test_a_device_list_export_holds_the_filtered_list(world, client_for):
    client = client_for(Role.OPERATOR)
    query = {"region": "Mangystau", "group": "region"}
    screen = client.get("/cabinet/points/", query)
    response = client.post("/cabinet/exports/new/", {"what": "points", "format": "xlsx", **query})
    header, data, totals = xlsx_blocks(response.content)
    assert [row[0] for row in data] == ["B200/1"] == [i["point"].name for i in screen.context["items"]]
    assert header["Region"] == "Mangystau"
    assert totals == [("Mangystau", 1, 1), ("All metering points", 1, 1)]


def test_the_xlsx_opens_in_libreoffice_with_the_same_values(world, client_for, tmp_path):
    client = client_for(Role.SUBJECT)
    query = {**PERIOD, "point": world.own_device.metering_point.pk, "quantity": "volume"}
    screen, stats = _screen_rows(client, query)
    path = tmp_path / "readings.xlsx"
    path.write_bytes(
        client.post("/cabinet/exports/new/", {"what": "readings", "format": "xlsx", **query}).content
    )
    lines = list(csv.reader(io.StringIO(libreoffice_csv(path, tmp_path))))
    start = next(i for i, line in enumerate(lines) if line[1:2] == ["Object"]) + 1
    data = lines[start : start + len(screen)]
    assert [(line[0][:16], line[1], Decimal(line[4])) for line in data] == [
        (_astana(r.period_start), r.object_id, r.value) for r in screen
    ]
    # as wide as the totals block: nine statistics and the count of estimated values
    period = next(line for line in lines if line[:1] == ["Period"])
    assert period == ["Period", "2025-06-01 – 2025-06-03", "", "", "", "", "", "", "", ""]
    totals = next(line for line in lines[start + len(screen) :] if line and line[0] == "volume")
    assert Decimal(totals[3]) == stats[0].total == Decimal(4230)


def test_exports_mark_and_count_estimated_values(world, client_for, tmp_path):
    """AMI-16: the files show a substituted value as estimated, and count them, as the screen does."""
    # given the own device's first two volumes revised by estimates (other numbers, so new revisions)
    key = SeriesKey("A100", "1", "volume")
    get_store().write(
        [
            ReadingRow(
                key, "PT2H", START + timedelta(hours=2 * step), Decimal("0.5"), "m3", "estimated", "est"
            )
            for step in (0, 1)
        ]
    )
    client = client_for(Role.SUBJECT)
    query = {**PERIOD, "point": world.own_device.metering_point.pk, "quantity": "volume"}
    screen, stats = _screen_rows(client, query)
    assert [s.estimated for s in stats] == [2]
    # when the readings are exported as xlsx and pdf
    xlsx = client.post("/cabinet/exports/new/", {"what": "readings", "format": "xlsx", **query}).content
    _header, data, totals = xlsx_blocks(xlsx)
    # then the quality column says estimated where the screen does, and the totals end with the count
    assert [row[6] for row in data] == ["estimated" if r.estimated else r.quality for r in screen]
    assert [row[6] for row in data].count("estimated") == 2
    assert [(t[0], t[2], t[-1]) for t in totals] == [("volume", 36, 2)]
    pdf = tmp_path / "readings.pdf"
    pdf.write_bytes(
        client.post("/cabinet/exports/new/", {"what": "readings", "format": "pdf", **query}).content
    )
    text = run([tool("pdftotext"), "-layout", pdf, "-"]).stdout
    assert sum("estimated" in line for line in text.splitlines() if line.strip().startswith("2025-")) == 2
    assert "Estimated" in text


def _astana(moment) -> str:
    from egsu_core.clock import to_astana

    return to_astana(moment).strftime("%Y-%m-%d %H:%M")


def test_the_pdf_renders_and_holds_the_numbers_of_the_screen(world, client_for, tmp_path):
    # given a facility named in Kazakh
    world.own_facility.name = "Мұнай қоймасы"
    world.own_facility.save()
    client = client_for(Role.SUBJECT)
    query = {**PERIOD, "point": world.own_device.metering_point.pk}
    screen, stats = _screen_rows(client, query)
    pdf = tmp_path / "readings.pdf"
    pdf.write_bytes(
        client.post("/cabinet/exports/new/", {"what": "readings", "format": "pdf", **query}).content
    )
    devices_pdf = tmp_path / "devices.pdf"
    devices_pdf.write_bytes(client.post("/cabinet/exports/new/", {"what": "points", "format": "pdf"}).content)
    # then it renders to PNG
    run([tool("pdftoppm"), "-png", "-r", "40", "-f", "1", "-l", "1", pdf, tmp_path / "page"])
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    # and its text holds every value and the totals, and the Kazakh name
    text = run([tool("pdftotext"), "-layout", pdf, "-"]).stdout
    values = [line.split() for line in text.splitlines() if line.strip().startswith("2025-")]
    assert [(v[2], v[3], v[4], Decimal(v[5])) for v in values] == [
        ("A100", r.device_id, r.quantity, r.value) for r in screen
    ]
    for s in stats:
        assert f"{s.quantity}" in text and f" {s.total} " in f"{text} " and f"{s.change_percent}" in text
    assert "Мұнай қоймасы" in run([tool("pdftotext"), devices_pdf, "-"]).stdout


# ------------------------------------------------------------------ large exports: a job with progress


def test_a_large_export_runs_as_a_job_and_reports_progress(world, client_for, monkeypatch,
                                                          django_capture_on_commit_callbacks):  # fmt: skip
    # given 20,000 values on a facility of the own subject
    facility = make_facility("E500", kind="1.2", subject=world.own, name="Big farm")
    make_device(facility, "1", device_type_id=1)
    get_store().write_many(
        ReadingRow(SeriesKey("E500", "1", quantity), "PT2H", START + timedelta(hours=2 * step), Decimal(step), "x",
                   "good", "t")
        for quantity in ("density", "temperature", "pressure", "mass")
        for step in range(5000)
    )  # fmt: skip
    seen: list[tuple[int, int]] = []
    writer = services.WRITERS["xlsx"]

    def spying(table, out, on_progress=None):
        def report(done):
            on_progress(done)
            job = ExportJob.objects.get()
            seen.append((job.rows_done, job.rows_total))

        return writer(table, out, report)

    monkeypatch.setitem(services.WRITERS, "xlsx", spying)
    query = {"object": "E500", "start": "2025-06-01", "end": "2026-08-01", "interval": "PT2H"}
    # when the subject exports it
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(Role.SUBJECT).post(
            "/cabinet/exports/new/", {"what": "readings", "format": "xlsx", **query}
        )
    job = ExportJob.objects.get()
    # then it became a job whose progress grew to the total, and the file holds every row
    assert response.status_code == 302 and response["Location"] == f"/cabinet/exports/{job.pk}/"
    assert seen[0] == (1000, 20000) and seen[-1] == (20000, 20000) and len(seen) == 21
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert (job.status, job.rows_done, job.rows_total, job.percent) == ("done", 20000, 20000, 100)
    page = client_for(Role.SUBJECT).get(response["Location"])
    assert f"/cabinet/exports/{job.pk}/download/" in page.content.decode()
    download = client_for(Role.SUBJECT).get(f"/cabinet/exports/{job.pk}/download/")
    _, data, _ = xlsx_blocks(b"".join(download.streaming_content))
    assert len(data) == 20000
    assert AuditEvent.objects.filter(event="data.export", object_id=str(job.pk)).count() == 2  # made, fetched


def test_a_running_job_reports_its_progress_as_json(world, client_for):
    from egsu_core.clock import utcnow

    job = ExportJob.objects.create(created_by=world.users[Role.SUBJECT], created_at=utcnow(), what="readings",
                                   format="pdf", status="running", rows_done=5000, rows_total=20000)  # fmt: skip
    client = client_for(Role.SUBJECT)
    assert client.get(f"/cabinet/exports/{job.pk}/status.json").json() == {
        "status": "running", "rows_done": 5000, "rows_total": 20000, "percent": 25, "download_url": None,
    }  # fmt: skip
    page = client.get(f"/cabinet/exports/{job.pk}/").content.decode()
    assert 'value="25"' in page and "reports/job.js" in page
    assert client.get(f"/cabinet/exports/{job.pk}/download/").status_code == 404


def test_a_job_is_built_through_the_gate_of_its_creator(world):
    from egsu_core.clock import utcnow

    job = ExportJob.objects.create(created_by=world.users[Role.SUBJECT], created_at=utcnow(), what="readings",
                                   format="xlsx", params={**PERIOD, "point": str(world.other_device.metering_point.pk)})  # fmt: skip
    job = services.run_export(job.pk)
    assert job.status == "failed" and job.file_name == ""


# ------------------------------------------------------------------ CLI service and the font


def test_the_cli_service_exports_through_the_gate_and_audits(world, tmp_path):
    from django.http import Http404

    user = world.users[Role.SUBJECT]
    rows = services.export_to_file(user, "readings", "xlsx", {**PERIOD, "point": str(world.own_device.metering_point.pk)},
                                   tmp_path / "r.xlsx")  # fmt: skip
    assert rows == 72 and len(xlsx_blocks((tmp_path / "r.xlsx").read_bytes())[1]) == 72
    assert AuditEvent.objects.get(event="data.export").source == "cli"
    with pytest.raises(Http404):
        services.export_to_file(
            user, "readings", "pdf", {"point": str(world.other_device.metering_point.pk)}, tmp_path / "x.pdf"
        )


def test_a_missing_font_fails_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "SEARCH_DIRS", (str(tmp_path),))
    monkeypatch.setattr(fonts.shutil, "which", lambda name: None)
    with pytest.raises(fonts.FontMissingError, match="install the DejaVu fonts"):
        fonts.find_font()


def test_the_font_is_found_here():
    assert fonts.find_font().name == "DejaVuSans.ttf"


# ------------------------------------------------------------------ totals and arrivals exports


def test_a_totals_export_holds_the_screens_rows(world, client_for):
    client = client_for(Role.AUTHORITY)
    query = {"start": "2025-06-01", "end": "2025-06-03", "energy": "oil_gas", "group": "region"}
    screen = client.get("/cabinet/totals/", query)
    response = client.post("/cabinet/exports/new/", {"what": "totals", "format": "xlsx", **query})
    header, data, _totals = xlsx_blocks(response.content)
    assert [(row[1], row[2], Decimal(str(row[4]))) for row in data] == [
        (r.group, r.quantity, r.total) for r in screen.context["rows"]
    ]
    assert len(data) == 6 and header["Group by"] == "region"


def test_an_arrivals_export_needs_the_monitoring_module_and_holds_the_screens_rows(world, client_for):
    query = {"start": "2025-06-01", "end": "2025-06-03", "group": "subject"}
    client = client_for(Role.OPERATOR)
    screen = client.get("/cabinet/monitoring/", query)
    response = client.post("/cabinet/exports/new/", {"what": "arrivals", "format": "xlsx", **query})
    _header, data, _totals = xlsx_blocks(response.content)
    assert sorted((row[1], row[3]) for row in data) == sorted(
        (r.bin, r.expected) for r in screen.context["rows"]
    )
    refused = client_for(Role.SUBSCRIBER).post(
        "/cabinet/exports/new/", {"what": "arrivals", "format": "xlsx", **query}
    )
    assert refused.status_code == 403
