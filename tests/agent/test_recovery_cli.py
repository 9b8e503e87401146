"""``egsu-agent send --period`` and ``status`` through the command line, on the real clock.

Every state a period can be in — not closed, before go-live, not aligned, built empty,
owed with the System away, refused by the System, delivered — gets a sentence and an
exit code, never a traceback. The System is the demo stand (a real EGSU server) or an
address where nothing listens.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from egsu_agent.cli import app
from egsu_agent.schedule import local_instant
from egsu_core.clock import astana_date, to_astana, utcnow
from tests.agent.conftest import ROOT, base_config, write_config
from tests.agent.test_end_to_end import system_config, system_readings

runner = CliRunner()
TODAY = astana_date(utcnow())
FIRST_DAY = TODAY - timedelta(days=3)
YESTERDAY = TODAY - timedelta(days=1)


def cli(*args: str):
    result = runner.invoke(app, list(args))
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, text


def config_file(tmp_path, key_and_cert, system=None, **device) -> str:
    data = base_config(tmp_path, key_and_cert)
    data["schedule"].update({"first_day": FIRST_DAY, "daily": True})
    data["system"]["timeout_seconds"] = 5
    if system:
        data["system"] = system
    data["devices"][0].update(device)
    return str(write_config(tmp_path / "agent.toml", data))


def export(tmp_path, tag_prefix: str = "T1", hour: int = 2) -> None:
    lines = ["tag,time,value"] + [
        f"{tag_prefix}.{q},{YESTERDAY.isoformat()}T{hour:02d}:{m:02d},{5 + m / 10}"
        for m in (0, 30, 60, 90) if m < 60
        for q in ("level", "volume")
    ]  # fmt: skip
    (tmp_path / "drop" / "yesterday.csv").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("period", "code", "words"),
    [
        pytest.param(f"{YESTERDAY}T03:00", 1, "does not start a PT2H period", id="not-aligned"),
        pytest.param(f"{TODAY + timedelta(days=1)}T02:00", 1, "has not closed yet", id="not-closed"),
        pytest.param(f"{FIRST_DAY - timedelta(days=1)}T02:00", 1, "before first_day", id="before-go-live"),
        pytest.param("yesterday", 2, "is not an ISO 8601 date-time", id="not-a-time"),
        pytest.param("2026-02-30", 2, "is not a date", id="not-a-date"),
    ],
)
def test_send_refuses_what_cannot_be_sent_in_words(tmp_path, key_and_cert, period, code, words):
    path = config_file(tmp_path, key_and_cert)
    exit_code, text = cli("send", "--period", period, "-c", path)
    assert exit_code == code and words in " ".join(text.split()), text


def test_send_on_a_period_built_empty_says_there_is_nothing_and_status_lists_it(tmp_path, key_and_cert):
    # given the service has built yesterday's periods with no sample at all (the old crash: UNIQUE failed)
    path = config_file(tmp_path, key_and_cert)
    start = local_instant(YESTERDAY, 0)
    exit_code, text = cli("run", "-c", path, "--replay-from", start.isoformat(), "--until",
                          (start + timedelta(hours=3)).isoformat())  # fmt: skip
    assert exit_code == 0, text
    # when the period is sent by hand, twice
    for _ in range(2):
        exit_code, text = cli("send", "--period", f"{YESTERDAY}T00:00", "-c", path)
        # then it says so, and exits 0: nothing is owed
        assert exit_code == 0 and "no device gave a sample for this period" in text, text
        assert "0 message(s) delivered now, 0 still owed" in text
    exit_code, text = cli("status", "-c", path)
    assert (
        exit_code == 0
        and "period(s) of the last 7 days had no sample" in text
        and f"{YESTERDAY} 00:00 two-hourly" in text
    ), text


def test_send_with_the_system_away_reports_owed_and_why_and_status_shows_it(tmp_path, key_and_cert):
    # given yesterday's export and a System address where nothing listens
    path = config_file(tmp_path, key_and_cert)
    export(tmp_path)
    # when the period is sent by hand
    exit_code, text = cli("send", "--period", f"{YESTERDAY}T02:00", "-c", path)
    # then it was built, tried once, and is owed with the reason; exit 1
    assert exit_code == 1, text
    assert "built now: 1 record(s) in 1 message(s)" in text
    assert "owed — last attempt" in text and "UNAVAILABLE" in text
    exit_code, text = cli("status", "-c", path)
    assert "owed: 1 message(s)" in text and "UNAVAILABLE" in text, text
    exit_code, json_text = cli("status", "--json", "-c", path)
    assert '"attempts": 1' in json_text and '"why": "failed: UNAVAILABLE' in json_text


def test_send_a_period_the_system_refuses_then_delivers_after_the_fix(stand, tmp_path, key_and_cert):
    # given the real System and a device number it does not know
    var, manifest = stand
    system = system_config(manifest, tmp_path)
    path = config_file(tmp_path, key_and_cert, system=system, object_id="407004", device="9")
    export(tmp_path)
    # when the period is sent
    exit_code, text = cli("send", "--period", f"{YESTERDAY}T02:00", "-c", path)
    # then the refusal is explained: which record, why, and what to do
    assert exit_code == 0, text
    assert "the System refused every record (SCBR001" in text and "--rebuild" in text
    exit_code, text = cli("status", "-c", path)
    assert "1 message(s) refused" in text and "DEVICE_UNKNOWN" in text, text
    # when the mapping is fixed and the period is sent again with --rebuild
    path = config_file(tmp_path, key_and_cert, system=system, object_id="407004", device="2")
    exit_code, text = cli("send", "--period", f"{YESTERDAY}T02:00", "--rebuild", "-c", path)
    assert exit_code == 0 and "rebuilt as version 2" in text and "delivered" in text, text
    # and a second send changes nothing: the System holds the value once
    exit_code, again = cli("send", "--period", f"{YESTERDAY}T02:00", "-c", path)
    assert exit_code == 0 and "0 message(s) delivered now, 0 still owed" in again, again
    start = local_instant(YESTERDAY, 2)
    stored = system_readings(var, "407004")[("2", "tankLevel", "PT2H", start)]
    assert stored == [(Decimal("650"), 1)]  # (5 m + 8 m) / 2 in cm, revision 1 only


def test_the_installed_command_never_prints_a_traceback(tmp_path, key_and_cert):
    path = config_file(tmp_path, key_and_cert)
    result = subprocess.run(
        [sys.executable, "-c", "from egsu_agent.cli import main; main()", "send", "--period",
         f"{YESTERDAY}T05:00", "-c", path],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "does not start a PT2H period" in result.stderr
    assert to_astana(utcnow()).year >= 2026
