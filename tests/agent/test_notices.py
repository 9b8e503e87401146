"""Notices to the data operator and the authorized body over a real local SMTP server (INT-10/11/12, INT-45)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from egsu_agent.config import load_config
from egsu_agent.notices import MaintenanceTooLate
from egsu_agent.schedule import ManualClock, local_instant
from egsu_agent.service import Agent
from tests.agent.conftest import FakeSystem, base_config, write_config
from tests.smtp import SmtpSink

DAY = date(2026, 3, 10)
START = local_instant(DAY, 0)


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def notices_section(smtp) -> dict:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "from": "agent@demo-munai.kz",
        "company": "Demo Munai LLP",
        "data_operator": ["operator@egsu.kz"],
        "authorized_body": ["duty@energo.gov.kz"],
        "failures_before_notice": 3,
    }


def make_agent(tmp_path, key_and_cert, smtp, system=None):
    data = base_config(tmp_path, key_and_cert, notices=notices_section(smtp))
    data["schedule"]["daily"] = False
    config = load_config(write_config(tmp_path / "agent.toml", data))
    clock = ManualClock(START)
    return Agent(config, clock=clock, channel=system or FakeSystem()), clock


def test_a_silent_source_sends_a_notice_within_three_hours_with_a_repair_deadline(
    tmp_path, key_and_cert, smtp
):
    # given the tank's export arrives for the first two hours only
    lines = ["tag,time,value"] + [f"T1.level,2026-03-10T00:{m:02d},5" for m in (0, 30)]
    lines += [f"T1.volume,2026-03-10T00:{m:02d},50" for m in (0, 30)]
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "a.csv").write_text("\n".join(lines) + "\n")
    agent, clock = make_agent(tmp_path, key_and_cert, smtp)
    # when the agent runs six hours
    agent.run(until=START + timedelta(hours=6))
    agent.close()
    # then exactly one notice went to both addresses, at the end of the first silent period (04:00 < 3 h after 02:00)
    assert len(smtp.messages) == 1
    recipients, mail = smtp.messages[0]
    assert sorted(recipients) == ["duty@energo.gov.kz", "operator@egsu.kz"]
    body = mail.get_content()
    assert "no data from device 2 of object 407004" in mail["Subject"]
    assert "Failure since: 2026-03-10 02:00 (Astana, UTC+0500)" in body
    assert "Detected at: 2026-03-10 04:00 (Astana, UTC+0500)" in body
    assert "Repair deadline: 2026-03-11 04:00 (Astana, UTC+0500)" in body


def test_repeated_delivery_failures_send_a_notice_then_a_restored_one(tmp_path, key_and_cert, smtp):
    lines = ["tag,time,value"] + [
        f"{t},2026-03-10T{h:02d}:00,5" for h in range(12) for t in ("T1.level", "T1.volume")
    ]
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "a.csv").write_text("\n".join(lines) + "\n")
    system = FakeSystem()
    system.down = True
    agent, clock = make_agent(tmp_path, key_and_cert, smtp, system)
    agent.run(until=START + timedelta(hours=3, minutes=30))
    system.down = False
    agent.run(until=START + timedelta(hours=4))
    agent.close()
    subjects = [mail["Subject"] for _, mail in smtp.messages]
    assert len(subjects) == 2
    assert "data cannot be delivered to the System since 2026-03-10 02:00" in subjects[0]
    assert "restored" in subjects[1]


def test_maintenance_is_announced_at_least_three_days_ahead(tmp_path, key_and_cert, smtp):
    agent, clock = make_agent(tmp_path, key_and_cert, smtp)
    with pytest.raises(MaintenanceTooLate):
        agent.announce_maintenance(
            START + timedelta(days=2), START + timedelta(days=2, hours=4), "server upgrade"
        )
    notice = agent.announce_maintenance(
        START + timedelta(days=3), START + timedelta(days=3, hours=4), "server upgrade"
    )
    agent.close()
    assert len(smtp.messages) == 1
    assert smtp.messages[0][1]["Subject"] == notice.subject
    assert "From: 2026-03-13 00:00 (Astana, UTC+0500)" in smtp.messages[0][1].get_content()
