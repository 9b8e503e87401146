"""Notices to the data operator and the authorized body over a real local SMTP server (INT-10/11/12, INT-45)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from egsu_agent.config import load_config
from egsu_agent.notices import (
    MaintenanceTooLate,
    SystemNoticesApiChannel,
    failure_notice,
    maintenance_notice,
    restored_notice,
)
from egsu_agent.schedule import ManualClock, local_instant
from egsu_agent.service import Agent
from tests.agent.conftest import FakeSystem, base_config, write_config
from tests.smtp import SmtpSink

DAY = date(2026, 3, 10)
START = local_instant(DAY, 0)
THREE_HOURS = timedelta(hours=3)


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


def make_agent(tmp_path, key_and_cert, smtp, system=None, *, device=None, notices=None):
    data = base_config(tmp_path, key_and_cert, notices=notices or notices_section(smtp))
    data["schedule"]["daily"] = False
    if device:
        data["devices"][0].update(device)
    config = load_config(write_config(tmp_path / "agent.toml", data))
    clock = ManualClock(START)
    return Agent(config, clock=clock, channel=system or FakeSystem()), clock


def export(tmp_path, name: str, rows: list[tuple[str, str, object]], fault: dict | None = None) -> None:
    """An export file in the drop folder: (tag, Astana time, value) rows, with an optional fault column."""
    header = "tag,time,value,fault" if fault is not None else "tag,time,value"
    lines = [header]
    for tag, at, value in rows:
        flag = f",{'yes' if (fault or {}).get((tag, at)) else 'no'}" if fault is not None else ""
        lines.append(f"{tag},{at},{value}{flag}")
    (tmp_path / "drop" / name).write_text("\n".join(lines) + "\n")


def tank_rows(day: str, times: list[str]) -> list[tuple[str, str, object]]:
    return [(tag, f"{day}T{t}", 5) for t in times for tag in ("T1.level", "T1.volume")]


def sent_times(agent) -> dict[str, object]:
    return {n.subject: n.sent_at for n in agent.outbox.all_notices()}


def test_a_silent_device_is_reported_within_three_hours_of_its_last_sample(tmp_path, key_and_cert, smtp):
    # given the tank's export holds samples up to 00:30 only, and the default 120-minute threshold
    (tmp_path / "drop").mkdir(exist_ok=True)
    export(tmp_path, "a.csv", tank_rows("2026-03-10", ["00:00", "00:30"]))
    agent, clock = make_agent(tmp_path, key_and_cert, smtp)
    # when the agent runs six hours, polling only every ten minutes
    agent.run(until=START + timedelta(hours=6))
    notices = agent.outbox.all_notices()
    agent.close()
    # then exactly one notice went to both addresses, at 02:30 sharp: within 3 hours of the last sample
    assert len(smtp.messages) == 1
    recipients, mail = smtp.messages[0]
    assert sorted(recipients) == ["duty@energo.gov.kz", "operator@egsu.kz"]
    body = mail.get_content()
    assert "no data from device 2 of object 407004" in mail["Subject"]
    assert "Failure since: 2026-03-10 00:30 (Astana, UTC+0500)" in body  # the last sample, not a period
    assert "Detected at: 2026-03-10 02:30 (Astana, UTC+0500)" in body
    assert "Repair deadline: 2026-03-11 02:30 (Astana, UTC+0500)" in body
    (notice,) = notices
    last_sample = START + timedelta(minutes=30)
    assert notice.sent_at - last_sample <= THREE_HOURS  # INT-10
    assert notice.sent_at == last_sample + timedelta(minutes=120)


def test_a_late_export_restores_a_silent_device_and_a_shorter_threshold_reports_sooner(
    tmp_path, key_and_cert, smtp
):
    # given a 60-minute threshold and an export that stops at 00:30
    (tmp_path / "drop").mkdir(exist_ok=True)
    export(tmp_path, "a.csv", tank_rows("2026-03-10", ["00:00", "00:30"]))
    agent, clock = make_agent(
        tmp_path, key_and_cert, smtp, notices={**notices_section(smtp), "no_data_after_minutes": 60}
    )

    def late_export(now):
        if now >= START + timedelta(hours=3) and not (tmp_path / "drop" / "b.csv").exists():
            export(tmp_path, "b.csv", tank_rows("2026-03-10", ["01:00", "02:00", "02:50"]))

    # when the missing samples arrive at 03:00
    agent.run(until=START + timedelta(hours=3, minutes=30), before_tick=late_export)
    agent.close()
    # then the notice went at 01:30 and the restored notice when the export came
    subjects = [mail["Subject"] for _, mail in smtp.messages]
    assert len(subjects) == 2 and "no data" in subjects[0] and "restored" in subjects[1]
    assert "Detected at: 2026-03-10 01:30" in smtp.messages[0][1].get_content()
    assert "Restored at: 2026-03-10 03:00" in smtp.messages[1][1].get_content()


def test_a_status_tag_or_a_fault_flag_is_reported_at_once_then_restored(tmp_path, key_and_cert, smtp):
    # given a tank with a status tag, whose PLC export arrives every ten minutes
    (tmp_path / "drop").mkdir(exist_ok=True)
    agent, clock = make_agent(tmp_path, key_and_cert, smtp, device={"status_tag": "T1.status"})

    def plc(now):
        minute = int((now - START).total_seconds() // 60)
        at = f"2026-03-10T{minute // 60:02d}:{minute % 60:02d}"
        status = 3 if 70 <= minute < 130 else 0  # the device reports fault code 3 from 01:10 to 02:10
        rows = [*tank_rows("2026-03-10", [at[11:]]), ("T1.status", at, status)]
        level_fault = {("T1.level", at): 200 <= minute < 230}  # a faulty reading flagged at 03:20
        export(tmp_path, f"plc-{minute:04d}.csv", rows, fault=level_fault)

    # when the agent runs four hours
    agent.run(until=START + timedelta(hours=4), before_tick=plc)
    agent.close()
    # then each fault was mailed in the tick that read it, and its end in the tick that read that
    mails = [(mail["Subject"], mail.get_content()) for _, mail in smtp.messages]
    subjects = [s for s, _ in mails]
    assert len(subjects) == 4, subjects
    assert "fault of device 2 of object 407004 since 2026-03-10 01:10" in subjects[0]
    assert "Detected at: 2026-03-10 01:10" in mails[0][1] and "status tag T1.status = 3" in mails[0][1]
    assert "restored" in subjects[1] and "Restored at: 2026-03-10 02:10" in mails[1][1]
    assert "since 2026-03-10 03:20" in subjects[2] and "T1.level: reading flagged faulty" in mails[2][1]
    assert "restored" in subjects[3] and "Restored at: 2026-03-10 03:50" in mails[3][1]


def test_each_channel_keeps_its_acknowledgement_and_a_failed_mail_is_retried(tmp_path, key_and_cert, smtp):
    # given the mail server is away when the notice is due
    (tmp_path / "drop").mkdir(exist_ok=True)
    export(tmp_path, "a.csv", tank_rows("2026-03-10", ["00:00", "00:30"]))
    port = smtp.port
    agent, clock = make_agent(tmp_path, key_and_cert, smtp)
    smtp.stop()
    agent.run(until=START + timedelta(hours=2, minutes=40))
    unsent = agent.outbox.unsent_notices()
    # when it is back
    smtp.restart(port)
    agent.run(until=START + timedelta(hours=3))
    (notice,) = agent.outbox.all_notices()
    acknowledgements = agent.outbox.notice_sent_on(notice.id)
    agent.close()
    # then the notice waited, went once, and the SMTP server's acceptance is stored with its Message-ID
    assert len(unsent) == 1 and "email: " in unsent[0].last_error
    assert len(smtp.messages) == 1
    assert notice.sent_at <= START + THREE_HOURS
    message_id = smtp.messages[0][1]["Message-ID"]
    assert acknowledgements["email"].startswith(f"{message_id} 250")


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
    agent.run(until=START + timedelta(hours=4, minutes=15))
    agent.close()
    subjects = [mail["Subject"] for _, mail in smtp.messages]
    assert len(subjects) == 2
    # the first period is built and tried at 02:15 (slot + settle), then 02:45 and 03:15
    assert "data cannot be delivered to the System since 2026-03-10 02:15" in subjects[0]
    assert "restored" in subjects[1]


@pytest.mark.django_db(transaction=True)
def test_notices_are_filed_through_the_systems_api_and_a_restore_ends_the_failure(
    tmp_path, key_and_cert, smtp, live_server
):
    from egsu.alarms.models import Notice as SystemNotice
    from egsu.registry.services import load_dictionaries
    from tests.registry.factories import make_subject, make_system

    # given the agent's connected system on a running System, and the API channel switched on
    load_dictionaries()
    subject = make_subject(name="Agent Oil LLP")
    make_system("demo-isun", "secret", subject=subject)
    data = base_config(tmp_path, key_and_cert, notices={**notices_section(smtp), "system_api": True})
    data["system"]["wsdl"] = f"{live_server.url}/shep/SyncChannel?wsdl"
    config = load_config(write_config(tmp_path / "agent.toml", data))
    channel = SystemNoticesApiChannel(config.system)
    # when it announces maintenance, a delivery failure and its restore
    maintenance = maintenance_notice(config.notices, start=START + timedelta(days=3),
                                     end=START + timedelta(days=3, hours=4), now=START, reason="server upgrade")  # fmt: skip
    assert channel.send(maintenance).startswith("notice ")
    failure = failure_notice(config.notices, what="no link to the System", since=START, detected=START + THREE_HOURS,
                             details="router down")  # fmt: skip
    assert channel.send(failure).startswith("notice ")
    restored = restored_notice(
        config.notices, what="no link", since=START, restored=START + timedelta(hours=5)
    )
    assert channel.send(restored).startswith("ended ")
    # then the System holds both notices, the outage ending at the restore
    found = {n.kind: n for n in SystemNotice.objects.filter(subject=subject)}
    assert (found["maintenance"].starts_at, found["maintenance"].ends_at) == (
        START + timedelta(days=3),
        START + timedelta(days=3, hours=4),
    )
    assert (found["outage"].starts_at, found["outage"].ends_at) == (START, START + timedelta(hours=5))
    assert found["outage"].via == "api:system:demo-isun"
    # and wrong credentials are refused, so the outbox retries
    data["system"]["password"] = "wrong"
    wrong = SystemNoticesApiChannel(load_config(write_config(tmp_path / "agent2.toml", data)).system)
    with pytest.raises(RuntimeError, match="401"):
        wrong.send(maintenance)


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
