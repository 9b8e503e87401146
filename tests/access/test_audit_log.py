"""The audit log page, its CSV download, `egsu audit search|purge` and the 12-month retention (DIG-21)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from typer.testing import CliRunner

from egsu.access import audit as trail
from egsu.access.audit import MIN_RETENTION, Event
from egsu.access.models import AuditEvent
from egsu.access.roles import Role
from egsu.cli.audit import app
from egsu_core.clock import utcnow

pytestmark = pytest.mark.django_db
runner = CliRunner()

# Sign-ins of the test clients are audited "now", so the cases bound the range to 2025.
# 2025-06-01 00:30 in Astana (UTC+5) is still 31 May in UTC: the date filters must use Astana days.
JUST_AFTER_MIDNIGHT = datetime(2025, 5, 31, 19, 30, tzinfo=UTC)
JUST_BEFORE_MIDNIGHT = datetime(2025, 5, 31, 18, 59, tzinfo=UTC)


def _event(when: datetime, event: str = Event.USER_CHANGED, actor: str = "operator", **fields) -> AuditEvent:
    fields.setdefault("object_type", "auth.user")
    fields.setdefault("object_id", "7")
    return AuditEvent.objects.create(occurred_at=when, event=event, actor_name=actor, **fields)


@pytest.fixture
def trail_events(world):
    AuditEvent.objects.all().delete()
    return [
        _event(JUST_BEFORE_MIDNIGHT, summary="late on 31 May"),
        _event(
            JUST_AFTER_MIDNIGHT,
            Event.EXPORT,
            actor="analyst",
            object_type="reports.export",
            object_id="x1",
            summary='=HYPERLINK("http://evil")',
        ),  # fmt: skip
        _event(JUST_AFTER_MIDNIGHT + timedelta(hours=1), Event.USER_DEACTIVATED, object_id="8"),
    ]


def _shown(client, query: str) -> list[str]:
    response = client.get("/cabinet/access/audit/" + query)
    assert response.status_code == 200
    return [event.summary or event.event for event in response.context["page"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?until=2025-06-30", ["user.deactivated", '=HYPERLINK("http://evil")', "late on 31 May"]),
        ("?event=data.export", ['=HYPERLINK("http://evil")']),
        ("?actor=ANALYST", ['=HYPERLINK("http://evil")']),
        ("?object=auth.user:8", ["user.deactivated"]),
        ("?object=7", ["late on 31 May"]),
        ("?object=reports.export", ['=HYPERLINK("http://evil")']),
        ("?since=2025-06-01&until=2025-06-30", ["user.deactivated", '=HYPERLINK("http://evil")']),
        ("?until=2025-05-31", ["late on 31 May"]),
        ("?since=2025-06-01&until=2025-06-01&actor=operator", ["user.deactivated"]),
        ("?since=2025-06-02&until=2025-06-01", []),
    ],
    ids=["all", "event", "actor-any-case", "type-and-id", "id", "type", "since-astana-day", "until-astana-day",
         "combined", "reversed-range"],
)  # fmt: skip
def test_the_audit_page_filters(client_for, trail_events, query, expected):
    assert _shown(client_for(Role.OPERATOR), query) == expected


def test_the_audit_page_shows_astana_time_and_pages(client_for, trail_events):
    for minute in range(55):
        _event(JUST_AFTER_MIDNIGHT - timedelta(days=2, minutes=minute), summary=f"old {minute}")
    client = client_for(Role.AUTHORITY)
    first = client.get("/cabinet/access/audit/").content.decode()
    assert "2025-06-01 01:30:00" in first  # the newest event, Astana time
    assert "Page 1 of 2" in first and "?page=2" in first
    second = client.get("/cabinet/access/audit/?event=user.changed&page=2")
    assert second.context["page"].number == 2
    assert "event=user.changed&amp;page=1" in second.content.decode()


def test_a_lock_out_shows_on_the_audit_page(client_for, world):
    # given five wrong passwords for the subject user
    for _ in range(5):
        Client().post("/accounts/login/", {"username": "subject-a", "password": "wrong"})
    # then the audit page, filtered to lock-outs, names the account
    response = client_for(Role.OPERATOR).get("/cabinet/access/audit/?event=auth.locked")
    events = list(response.context["page"])
    assert [(e.event, e.object_id) for e in events] == [("auth.locked", "subject-a")]
    assert "failed sign-in for &#x27;subject-a&#x27;" in response.content.decode()
    failed = client_for(Role.OPERATOR).get(
        "/cabinet/access/audit/?event=auth.sign_in_failed&object=subject-a"
    )
    assert len(failed.context["page"]) == 4


def test_the_csv_download_has_the_filtered_rows_and_is_audited(client_for, trail_events):
    # when the authorized body downloads the audit from 1 June (Astana)
    response = client_for(Role.AUTHORITY).get(
        "/cabinet/access/audit/export.csv?since=2025-06-01&until=2025-06-01"
    )
    body = b"".join(response.streaming_content).decode("utf-8")
    # then it holds those rows in Astana time, with formulas neutralised
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["time (Astana)", "event", "actor"]
    assert [row[:3] for row in rows[1:]] == [
        ["2025-06-01T01:30:00.000+05:00", "user.deactivated", "operator"],
        ["2025-06-01T00:30:00.000+05:00", "data.export", "analyst"],
    ]
    assert rows[2][5] == '\'=HYPERLINK("http://evil")'
    # and the download itself is an audited export
    export = AuditEvent.objects.filter(event=Event.EXPORT, actor_name="analyst").exclude(object_id="x1").get()
    assert export.summary == "audit log CSV, 2 events"
    assert export.after == {"filters": {"since": "2025-06-01", "until": "2025-06-01"}}


# ---------------------------------------------------------------- retention


def test_purge_keeps_twelve_months_to_the_second(db):
    now = datetime(2026, 6, 1, tzinfo=UTC)
    kept = _event(now - MIN_RETENTION)
    gone = _event(now - MIN_RETENTION - timedelta(seconds=1))
    assert trail.purge(now=now) == 1
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not AuditEvent.objects.filter(pk=gone.pk).exists()
    with pytest.raises(ValueError, match="at least 12 months"):
        trail.purge(older_than=MIN_RETENTION - timedelta(days=1), now=now)


@pytest.mark.parametrize("days", [0, 30, 365], ids=["zero", "a-month", "one-day-short"])
def test_the_cli_refuses_a_retention_under_a_year(db, days):
    _event(utcnow() - timedelta(days=400))
    result = runner.invoke(app, ["purge", "--older-than-days", str(days)])
    assert result.exit_code == 2
    assert "kept at least 366 days" in result.output
    assert AuditEvent.objects.count() == 1


def test_the_cli_purges_past_retention_and_records_it(db):
    now = utcnow()
    _event(now - timedelta(days=400), summary="old")
    _event(now - timedelta(days=300), summary="young")
    dry = runner.invoke(app, ["purge", "--dry-run"])
    assert dry.exit_code == 0 and "dry run: 1 event would be deleted" in dry.output
    assert AuditEvent.objects.count() == 2
    result = runner.invoke(app, ["purge", "--older-than-days", "366"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 event" in result.output
    assert sorted(AuditEvent.objects.values_list("summary", flat=True)) == [
        AuditEvent.objects.get(event=Event.AUDIT_PURGED).summary, "young",
    ]  # fmt: skip
    assert AuditEvent.objects.get(event=Event.AUDIT_PURGED).source == "egsu audit purge"


def test_the_cli_searches_in_astana_time(trail_events):
    result = runner.invoke(app, ["search", "--actor", "operator", "--since", "2025-06-01"])
    assert result.exit_code == 0, result.output
    assert "2025-06-01T01:30:00.000+05:00" in result.output and "user.deactivated" in result.output
    assert "late on 31 May" not in result.output
    assert result.output.rstrip().endswith("1 event")


def test_the_cli_refuses_an_unknown_event(db):
    result = runner.invoke(app, ["search", "--event", "user.nonsense"])
    assert result.exit_code == 2 and "unknown event" in result.output
