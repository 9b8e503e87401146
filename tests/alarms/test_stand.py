"""End to end on the demo stand (`egsu demo`, then `egsu serve`: web, worker and scheduler), with
mail through a real SMTP server on loopback (issue 14 "Done when"):

- the demo subjects send nothing, so the scheduler's missing-data rule raises critical alarms and
  the demo reader (subscribed to critical alarms) gets an e-mail within the configured time;
- a TERMINAL_COVER_OPENED event posted through the AMI REST intake is an open alarm in
  /api/v1/alarms at once; an operator acknowledges it in the cabinet; the meter's
  TERMINAL_COVER_CLOSED closes it.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from datetime import UTC, datetime

import httpx
import pytest

from tests import stand
from tests.smtp import SmtpSink

# The stand runs on its own SQLite database and readings store whatever the pass: once is enough.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("EGSU_DATABASE_URL")) or os.environ.get("EGSU_TEST_READINGS_BACKEND") == "clickhouse",
    reason="the demo stand uses its own SQLite database: this end-to-end test runs in the SQLite pass only",
)

OPERATOR = "e2e-operator"
PASSWORD = "Operator-Password-123"
MAKE_OPERATOR = f"""
import django; django.setup()
from django.contrib.auth.models import User
from egsu.access.models import Profile
user = User.objects.create_user({OPERATOR!r}, "op@example.kz", {PASSWORD!r})
Profile.objects.create(user=user, role="operator", language="en")
"""

# The demo's points owe data since three Astana days ago: a point registered today owes nothing due
# until its first slot's due time, so right after Astana midnight (19:00 UTC) the silent subjects
# would owe nothing yet (the test, not the System, depends on the hour).
OWING_FOR_DAYS = """
from datetime import timedelta
from egsu.points.models import MeteringPoint
from egsu_core.clock import astana_date, utcnow
MeteringPoint.objects.update(owes_from=astana_date(utcnow()) - timedelta(days=3))
"""


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def post_event(manifest, code: str, batch: str) -> None:
    ami = manifest["ami"]
    event = {
        "meter": ami["meters"][0]["serial"],
        "code": code,
        "at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    answer = httpx.post(ami["endpoint"], json={"format": "ami/1", "batchId": batch, "events": [event]},
                        headers={"Authorization": f"Bearer {ami['token']}"}, timeout=30)  # fmt: skip
    assert answer.status_code == 200, answer.text


def signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    client.get("/accounts/login/")
    answer = client.post("/accounts/login/", data={
        "username": OPERATOR, "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"],
    }, headers={"Referer": base + "/accounts/login/"})  # fmt: skip
    assert answer.status_code == 302, answer.text[:500]
    return client


def test_the_demo_stand_mails_a_silent_subject_and_handles_a_meter_event(tmp_path):
    sink = SmtpSink().start()
    var = tmp_path / "var"
    try:
        with stand.running_stand(
            var, EGSU_EMAIL_URL=f"smtp://127.0.0.1:{sink.port}", EGSU_MISSING_DATA_ALARM_MINUTES="1",
            EGSU_ARRIVAL_GRACE_MINUTES="0", EGSU_SITE_URL="http://stand.example.kz", prepare=OWING_FOR_DAYS,
        ) as manifest:  # fmt: skip
            assert (manifest["email"]["host"], manifest["email"]["port"]) == ("127.0.0.1", sink.port)
            # the silent demo subjects: an e-mail to the subscribed reader, in Russian (the reader's language)
            reader = manifest["alarms"]["subscriber"]
            alarm_mails = lambda: [  # noqa: E731
                m for to, m in sink.messages if reader in to and str(m["Subject"]).strip().startswith("Тревога ЕГСУ")
            ][:1]  # fmt: skip
            [message] = wait_for(alarm_mails, 120, "the missing-data e-mail")
            assert "http://stand.example.kz/cabinet/alarms/" in message.get_content()
            # a meter event through the AMI REST intake
            subprocess.run([stand.sys.executable, "-c", MAKE_OPERATOR], env=stand.stand_env(var), cwd=stand.ROOT,
                           check=True, capture_output=True, timeout=60)  # fmt: skip
            base = manifest["alarms"]["page"].split("/cabinet/")[0]
            client = signed_in(base)
            post_event(manifest, "TERMINAL_COVER_OPENED", "e2e-1")
            [alarm] = [a for a in client.get("/api/v1/alarms", params={"state": "open"}).json()
                       if a["evidence"].get("event") == "TERMINAL_COVER_OPENED"]  # fmt: skip
            assert (
                alarm["severity"] == "critical"
                and alarm["evidence"]["serial_number"] == manifest["ami"]["meters"][0]["serial"]
            )
            # the operator acknowledges it in the cabinet
            page = client.get(f"/cabinet/alarms/{alarm['id']}/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            answer = client.post(f"/cabinet/alarms/{alarm['id']}/acknowledge/", data={
                "csrfmiddlewaretoken": token, "comment": "crew sent"}, headers={"Referer": base})  # fmt: skip
            assert answer.status_code == 302
            [seen] = client.get("/api/v1/alarms", params={"state": "acknowledged"}).json()
            assert (seen["id"], seen["acknowledged_by"]) == (alarm["id"], OPERATOR)
            # the condition clears: the meter reports its cover closed
            post_event(manifest, "TERMINAL_COVER_CLOSED", "e2e-2")
            [closed] = [a for a in client.get("/api/v1/alarms", params={"state": "closed"}).json()
                        if a["id"] == alarm["id"]]  # fmt: skip
            assert closed["closed_at"]
    finally:
        sink.stop()
