"""Late data is never lost (App.1 §12, INT-15): exports and rows that arrive minutes or days late.

A period is first built ``settle_minutes`` after its slot; a value that arrives later
sends a correction — a new message for the period, only with the records that changed —
and a pending message of the period is replaced rather than sent after its correction.
The System here is the fake one of conftest (the end-to-end tests use the real one).
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from decimal import Decimal

import pytest
from lxml import etree

from egsu_agent.config import load_config
from egsu_agent.outbox import SUPERSEDED, Outbox
from egsu_agent.schedule import ManualClock, local_instant
from egsu_agent.service import Agent
from egsu_core.clock import ASTANA
from tests.agent.conftest import FakeSystem, base_config, write_config

DAY = date(2026, 3, 10)
START = local_instant(DAY, 0)


def records_of(envelope: bytes) -> list[dict[str, str]]:
    data = etree.fromstring(envelope).find(".//requestData/data")
    return [{field.tag: field.text for field in event} for event in data]


def astana(moment) -> str:
    return moment.astimezone(ASTANA).strftime("%Y-%m-%dT%H:%M")


def drop(tmp_path, name: str, first_minute: int, last_minute: int, value=lambda m: 5 + (m // 10) % 4) -> dict:
    """Level and volume every 10 minutes in [first, last) minutes after START; returns level by minute."""
    lines = ["tag,time,value"]
    levels = {}
    for minute in range(first_minute, last_minute, 10):
        at = astana(START + timedelta(minutes=minute))
        levels[minute] = Decimal(value(minute))
        lines += [f"T1.level,{at},{levels[minute]}", f"T1.volume,{at},{levels[minute] * 10}"]
    (tmp_path / "drop" / name).write_text("\n".join(lines) + "\n")
    return levels


def cm(levels: list[Decimal]) -> str:
    return str((sum(levels) / len(levels) * 100).quantize(Decimal("0.001")))


def make_agent(tmp_path, key_and_cert, system=None, **schedule):
    data = base_config(tmp_path, key_and_cert)
    data["schedule"].update({"daily": False, **schedule})
    config = load_config(write_config(tmp_path / "agent.toml", data))
    clock = ManualClock(START)
    return Agent(config, clock=clock, channel=system or FakeSystem()), clock


def at_minute(tmp_path, minute: int, action):
    """A before_tick hook that runs ``action`` once, at the first tick at or after ``minute``."""
    done = []

    def hook(now):
        if not done and now >= START + timedelta(minutes=minute):
            done.append(now)
            action()

    return hook


def test_an_export_a_little_after_the_hour_is_in_the_first_message(tmp_path, key_and_cert):
    # given the export of 00:00–02:00 lands at 02:10, inside the 15-minute settle time
    system = FakeSystem()
    agent, clock = make_agent(tmp_path, key_and_cert, system)
    levels = {}
    hook = at_minute(tmp_path, 130, lambda: levels.update(drop(tmp_path, "a.csv", 0, 120)))
    # when the agent runs to 03:00
    agent.run(until=START + timedelta(hours=3), before_tick=hook)
    messages = agent.outbox.all_messages()
    agent.close()
    # then one message went at 02:15 with the whole period, and nothing needed correcting
    assert len(messages) == 1 and messages[0].version == 1
    ((_, envelope),) = system.posts
    (record,) = records_of(envelope)
    assert record["tankLevel"] == cm(list(levels.values())) and record["deviceStatus"] == "yes"


def test_an_export_after_the_settle_time_sends_a_correction_with_only_what_changed(tmp_path, key_and_cert):
    # given half of the period arrives in time and the rest at 02:40, 40 minutes after the slot
    system = FakeSystem()
    agent, clock = make_agent(tmp_path, key_and_cert, system)
    early = drop(tmp_path, "a.csv", 0, 60)
    late = {}
    hook = at_minute(tmp_path, 160, lambda: late.update(drop(tmp_path, "b.csv", 60, 120)))
    # when the agent runs to 04:30
    agent.run(until=START + timedelta(hours=4, minutes=30), before_tick=hook)
    messages = agent.outbox.all_messages()
    agent.close()
    # then the first period went twice: partial at 02:15, complete at 02:40 as version 2
    first = [m for m in messages if m.period_start == START]
    assert [(m.version, m.state) for m in first] == [(1, "delivered"), (2, "delivered")]
    posted = {mid: records_of(body) for mid, body in system.posts}
    assert posted[first[0].message_id][0]["tankLevel"] == cm(list(early.values()))
    assert posted[first[1].message_id][0]["tankLevel"] == cm(list(early.values()) + list(late.values()))
    # and the next period, untouched by the late export's values, went once
    assert [m.version for m in messages if m.period_start == START + timedelta(hours=2)] == []


def test_a_period_built_empty_is_sent_when_its_data_comes_days_later(tmp_path, key_and_cert):
    # given no export at all on DAY, and the whole day arriving two days later
    system = FakeSystem()
    agent, clock = make_agent(tmp_path, key_and_cert, system, daily=True)
    levels = {}
    hook = at_minute(tmp_path, 2 * 24 * 60 + 5, lambda: levels.update(drop(tmp_path, "a.csv", 0, 24 * 60)))
    # when the agent runs to the third morning
    agent.run(until=START + timedelta(days=2, hours=1), before_tick=hook)
    messages = agent.outbox.all_messages()
    status = agent.status()
    agent.close()
    # then every period of DAY went out once, as its first message, with the complete values
    day_messages = [m for m in messages if m.period_start < START + timedelta(days=1)]
    assert len(day_messages) == 13 and {m.version for m in day_messages} == {1}
    assert all(m.state == "delivered" for m in day_messages)
    daily = next(m for m in day_messages if m.interval == "P1D")
    (record,) = records_of(next(body for mid, body in system.posts if mid == daily.message_id))
    assert record["tankLevel"] == cm(list(levels.values())) and record["isDaily"] == "yes"
    assert status["owed"] == []


def test_a_value_replaced_in_a_later_export_is_corrected_and_a_pending_message_is_replaced(
    tmp_path, key_and_cert
):
    # given the System is down when the first period is built, then the export is re-issued with
    # another value for 01:00
    system = FakeSystem()
    system.down = True
    agent, clock = make_agent(tmp_path, key_and_cert, system)
    drop(tmp_path, "a.csv", 0, 120)
    fixed = {}
    hook = at_minute(
        tmp_path, 150, lambda: fixed.update(drop(tmp_path, "a-fixed.csv", 60, 70, value=lambda m: 9))
    )

    def world(now):
        hook(now)
        system.down = now < START + timedelta(hours=3)

    # when the agent runs to 04:00
    agent.run(until=START + timedelta(hours=4), before_tick=world)
    messages = agent.outbox.messages_for("PT2H", START)
    agent.close()
    # then the first version was replaced before delivery and never posted after the outage
    assert [(m.version, m.state) for m in messages] == [(1, SUPERSEDED), (2, "delivered")]
    after = [
        mid
        for mid, _ in system.posts[
            system.posts.index(next(p for p in system.posts if p[0] == messages[1].message_id)) :
        ]
    ]
    assert messages[0].message_id not in after
    record = records_of(next(body for mid, body in system.posts if mid == messages[1].message_id))[0]
    values = [Decimal(5 + (m // 10) % 4) for m in range(0, 120, 10)]
    values[6] = Decimal(9)
    assert record["tankLevel"] == cm(values)


def test_late_values_beyond_the_corrections_horizon_are_kept_and_sent_only_on_request(tmp_path, key_and_cert):
    # given a one-day horizon and an export for DAY that arrives three days later
    system = FakeSystem()
    agent, clock = make_agent(tmp_path, key_and_cert, system, corrections_days=1)
    drop(tmp_path, "a.csv", 0, 60)
    hook = at_minute(tmp_path, 3 * 24 * 60, lambda: drop(tmp_path, "b.csv", 60, 120))
    agent.run(until=START + timedelta(days=3, hours=1), before_tick=hook)
    first = agent.outbox.messages_for("PT2H", START)
    # then no correction went by itself, and `send --period` sends it
    assert [m.version for m in first] == [1]
    report = agent.send_period("PT2H", START)
    agent.close()
    assert report.delivered == 1 and "rebuilt as version 2" in report.lines[0]


# ---------------------------------------------------------------- SQL rows written late


def lab_db(tmp_path) -> sqlite3.Connection:
    db = sqlite3.connect(tmp_path / "lab.db", isolation_level=None)
    db.execute(
        "CREATE TABLE lab (id INTEGER PRIMARY KEY AUTOINCREMENT, tag TEXT, measured_at TEXT, value REAL)"
    )
    return db


def density_config(tmp_path, key_and_cert, query: str, **source):
    data = base_config(tmp_path, key_and_cert)
    data["schedule"].update({"daily": False, "poll_seconds": 600})
    data["sources"] = [
        {"name": "lab", "type": "sql", "url": f"sqlite:///{tmp_path / 'lab.db'}", "query": query, **source}
    ]
    data["devices"] = [
        {
            "object_id": "909001",
            "kind": "1.9",
            "device": "1",
            "device_type": 10,
            "operation_type": 18,
            "product_type": 4,
            "quantities": {"density": {"tag": "D", "unit": "kg/m3"}},
        }
    ]
    return load_config(write_config(tmp_path / "agent.toml", data))


MARKER = "SELECT tag, measured_at, value, id AS marker FROM lab WHERE id > :marker ORDER BY id"
WINDOW = "SELECT tag, measured_at, value FROM lab WHERE measured_at > :since AND measured_at <= :until"


@pytest.mark.parametrize("late_by", [timedelta(minutes=50), timedelta(days=3)], ids=["minutes", "days"])
def test_sql_rows_written_late_are_read_by_the_change_marker(tmp_path, key_and_cert, late_by):
    # given a lab database that gets a 00:30 density at once and a 01:30 one late
    db = lab_db(tmp_path)
    db.execute("INSERT INTO lab (tag, measured_at, value) VALUES ('D', '2026-03-10 00:30:00', 700)")
    system = FakeSystem()
    config = density_config(tmp_path, key_and_cert, MARKER)
    clock = ManualClock(START)
    agent = Agent(config, clock=clock, channel=system)
    written = START + timedelta(minutes=90) + late_by

    def lab(now):
        if now >= written and db.execute("SELECT count(*) FROM lab").fetchone()[0] == 1:
            db.execute("INSERT INTO lab (tag, measured_at, value) VALUES ('D', '2026-03-10 01:30:00', 702)")

    # when the agent runs until after the late row
    agent.run(until=written + timedelta(hours=1), before_tick=lab)
    messages = agent.outbox.messages_for("PT2H", START)
    agent.close()
    # then the period went again with the mean of both rows
    assert [m.version for m in messages] == [1, 2]
    last = records_of(next(body for mid, body in system.posts if mid == messages[-1].message_id))[0]
    assert last["density"] == "701.000"


def test_sql_time_window_reads_rows_late_within_its_look_back_only(tmp_path, key_and_cert):
    # given the time-window query with a 2-hour look-back
    db = lab_db(tmp_path)
    db.execute("INSERT INTO lab (tag, measured_at, value) VALUES ('D', '2026-03-10 00:30:00', 700)")
    db.execute("INSERT INTO lab (tag, measured_at, value) VALUES ('D', '2026-03-10 03:30:00', 700)")
    system = FakeSystem()
    agent = Agent(density_config(tmp_path, key_and_cert, WINDOW, lookback_hours=2), clock=ManualClock(START),
                  channel=system)  # fmt: skip

    def lab(now):
        rows = db.execute("SELECT count(*) FROM lab").fetchone()[0]
        if now >= START + timedelta(hours=4) and rows == 2:  # late by 2h20: inside the look-back of 03:30
            db.execute("INSERT INTO lab (tag, measured_at, value) VALUES ('D', '2026-03-10 01:40:00', 702)")
        if now >= START + timedelta(hours=4) and rows == 3:
            db.execute("INSERT INTO lab (tag, measured_at, value) VALUES ('D', '2026-03-09 20:00:00', 1)")

    agent.run(until=START + timedelta(hours=5), before_tick=lab)
    messages = agent.outbox.messages_for("PT2H", START)
    samples = agent.outbox.samples(["D"], START - timedelta(hours=5), START)
    agent.close()
    # then the row 2.5 hours late was read and corrected; the row far behind the look-back was not
    assert [m.version for m in messages] == [1, 2]
    assert samples == {}


# ---------------------------------------------------------------- an outbox file of the first release


FIRST_RELEASE_SCHEMA = """
CREATE TABLE samples (tag TEXT NOT NULL, at TEXT NOT NULL, value TEXT NOT NULL, fault INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL, PRIMARY KEY (tag, at));
CREATE TABLE periods (interval TEXT NOT NULL, start TEXT NOT NULL, end_at TEXT NOT NULL, built_at TEXT NOT NULL,
    records INTEGER NOT NULL, messages INTEGER NOT NULL, PRIMARY KEY (interval, start));
CREATE TABLE messages (message_id TEXT PRIMARY KEY, interval TEXT NOT NULL, period_start TEXT NOT NULL,
    period_end TEXT NOT NULL, chunk INTEGER NOT NULL, envelope BLOB NOT NULL, size INTEGER NOT NULL,
    records INTEGER NOT NULL, created_at TEXT NOT NULL, state TEXT NOT NULL, next_attempt_at TEXT NOT NULL,
    delivered_at TEXT, answer_code TEXT, answer_message TEXT, UNIQUE (interval, period_start, chunk));
CREATE TABLE notices (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT NOT NULL,
    opened_at TEXT NOT NULL, closed_at TEXT, subject TEXT NOT NULL, body TEXT NOT NULL, sent_at TEXT, last_error TEXT);
INSERT INTO messages VALUES ('m-1', 'PT2H', '2026-03-09T19:00:00.000000Z', '2026-03-09T21:00:00.000000Z', 1, X'3C612F3E',
    4, 1, '2026-03-09T21:00:00.000000Z', 'pending', '2026-03-09T21:00:00.000000Z', NULL, NULL, NULL);
"""


def test_an_outbox_of_the_first_release_opens_with_nothing_lost(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(FIRST_RELEASE_SCHEMA)
    outbox = Outbox(path)
    try:
        (message,) = outbox.pending()
        assert (message.message_id, message.version, message.envelope) == ("m-1", 1, b"<a/>")
    finally:
        outbox.close()
