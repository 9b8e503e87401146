"""`make demo` with EGSU_EMAIL_URL set: the scheduler of a real `egsu worker --schedule` process makes the
daily reports and the demo subscriber's one reaches a real SMTP server on loopback, files attached.
The same run publishes open data, which /open/ and /api/open/v1/ then serve without sign-in."""

from __future__ import annotations

import pytest
from django.test import Client

from egsu.opendata.models import Publication
from egsu.reporting.demo import DEMO_READER_EMAIL
from egsu.reporting.models import Report
from tests.jobs.conftest import wait_for
from tests.smtp import SmtpSink


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def test_the_demo_mails_a_scheduled_report_with_its_files(workers, smtp_sink):
    loaded = workers.run("demo", "--no-serve", timeout=240, EGSU_EMAIL_URL=smtp_sink.url)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "demo-analyst" in loaded.stdout + loaded.stderr, loaded.stdout[:3000]
    workers.start("worker", "--schedule", "--concurrency", "2", EGSU_EMAIL_URL=smtp_sink.url)

    def report_mail():
        return [m for rcpt, m in smtp_sink.messages if DEMO_READER_EMAIL in rcpt and m.is_multipart()]

    found = wait_for(
        report_mail, timeout=240, what="a report e-mailed to the demo subscriber", logs=workers.logs
    )
    message = found[0]
    names = sorted(part.get_filename() for part in message.iter_attachments())
    assert [n.rsplit(".", 1)[1] for n in names] == ["pdf", "xlsx"], names
    assert str(message["Subject"]).strip().startswith("Отчёт")  # the subscriber reads Russian
    pdf = next(p for p in message.iter_attachments() if p.get_filename().endswith(".pdf"))
    assert pdf.get_content().startswith(b"%PDF")
    daily = Report.objects.filter(frequency="daily", level="national", status="built")
    assert daily.filter(kind="oil_gas_turnover").exists()
    # The national figure of three demo subjects is public; each demo region (one subject) is withheld.
    wait_for(lambda: Publication.objects.filter(current=True).count() == 2, timeout=120,
             what="open data published", logs=workers.logs)  # fmt: skip
    rows = Client().get("/api/open/v1/datasets/egsu_oil_gas_turnover_monthly/data?limit=5000").json()["data"]
    assert any(r["level"] == "national" and r["value"] for r in rows)
    assert rows and all(r["value"] is None for r in rows if r["level"] == "regional")
    assert Client().get("/open/").status_code == 200
