"""The agent against the REAL System (the demo stand), real device servers and a drop folder.

Given the stand (`egsu demo` + `egsu serve`), a pymodbus server, an asyncua server, a
drop folder and an SQLite database of the company, when the agent runs a whole Astana
day on a controllable clock, then the System's own database holds exactly the values
the test computes independently for every two-hourly and daily period. The fault tests
take the System away for a day, and SIGKILL the agent between the System's answer and
the agent reading it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from egsu.clock import ASTANA
from egsu_agent.config import load_config
from egsu_agent.outbox import Outbox
from egsu_agent.schedule import ManualClock
from egsu_agent.service import Agent
from tests.agent.conftest import write_config
from tests.agent.devices import ModbusSimulator, OpcUaSimulator
from tests.agent.proxy import GatewayProxy

HALF_HOUR = timedelta(minutes=30)
Q3 = Decimal("0.001")


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return (
        datetime(day.year, day.month, day.day, tzinfo=ASTANA) + timedelta(hours=hour, minutes=minute)
    ).astimezone(UTC)


def r3(value: Decimal) -> Decimal:
    return value.quantize(Q3, rounding=ROUND_HALF_EVEN)


def mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


from egsu.readings.demo import SOURCE as DEMO_SOURCE  # noqa: E402


def system_readings(
    var: Path, object_id: str
) -> dict[tuple[str, str, str, datetime], list[tuple[Decimal, int]]]:
    """(device, quantity, interval, period start UTC) → [(value, revision)] straight from the System's database.

    The demo stand's own sample readings (`egsu demo`, source DEMO_SOURCE) are not the agent's: left out.
    """
    db = sqlite3.connect(var / "egsu.sqlite3")
    try:
        rows = db.execute(
            "SELECT device_id, quantity, interval, period_start, CAST(value AS TEXT), revision"
            " FROM readings_reading WHERE object_id = ? AND source != ?",
            (object_id, DEMO_SOURCE),
        ).fetchall()
    finally:
        db.close()
    out: dict = {}
    for device, quantity, interval, start, value, revision in rows:
        moment = datetime.fromisoformat(start.replace(" ", "T")).replace(tzinfo=UTC)
        out.setdefault((device, quantity, interval, moment), []).append((Decimal(value), revision))
    return out


def system_config(manifest: dict, tmp_path: Path, endpoint: str | None = None) -> dict:
    owner = next(s for s in manifest["subjects"] if s["bin"] == manifest["facilities"][0]["subject_bin"])
    system = {
        "wsdl": manifest["wsdl"],
        "service_id": manifest["serviceId"],
        "sender_id": manifest["senderId"],
        "password": manifest["password"],
        "sign_key": owner["sign_key"],
        "sign_cert": owner["sign_cert"],
        "timeout_seconds": 30,
    }
    if endpoint:
        system["endpoint"] = endpoint
    return system


# ---------------------------------------------------------------- a whole day from four kinds of source

DAY1 = date(2026, 3, 10)
START = local(DAY1)


def level_m(k: int) -> float:
    return 5 + 0.25 * (k % 7)


def tank_volume(k: int) -> float:
    return 100 + 1.5 * (k % 5)


def mass_kg(k: int) -> float:
    return 1_000_000 + 2_500 * k + 125 * (k % 3)


def flow_litres(k: int) -> float:
    return 20_000 + 500 * (k % 4)


def gas_rows() -> list[tuple[datetime, str, str]]:
    """Every 15 minutes of DAY1: temperature in K, pressure in MPa, volume in m³."""
    rows = []
    for i in range(96):
        at = START + timedelta(minutes=15 * i)
        rows += [
            (at, "G1.temp", str(Decimal("283.15") + i % 4)),
            (at, "G1.pressure", str(Decimal("0.5") + Decimal("0.01") * (i % 3))),
            (at, "G1.volume", str(1000 + 10 * i)),
        ]
    return rows


def density_rows() -> list[tuple[str, str, float]]:
    """Hourly density in the company's own database, Astana wall-clock text as such databases keep it."""
    return [
        (
            (START + timedelta(hours=h)).astimezone(ASTANA).strftime("%Y-%m-%d %H:%M:%S"),
            "UGS.density",
            700 + 0.5 * (h % 6),
        )
        for h in range(24)
    ]


@pytest.fixture
def devices_world(tmp_path):
    modbus = ModbusSimulator().start()
    opcua = OpcUaSimulator(["M1.Mass", "M1.Volume"]).start()
    drop = tmp_path / "drop"
    drop.mkdir()
    lines = ["tag;time;value"] + [
        f"{tag};{at.astimezone(ASTANA).strftime('%Y-%m-%dT%H:%M:%S')};{value.replace('.', ',')}"
        for at, tag, value in gas_rows()
    ]
    (drop / "gas-2026-03-10.csv").write_text("\n".join(lines) + "\n", "utf-8")
    company_db = tmp_path / "company.db"
    with sqlite3.connect(company_db) as db:
        db.execute("CREATE TABLE lab (tag TEXT, measured_at TEXT, value REAL)")
        db.executemany("INSERT INTO lab (measured_at, tag, value) VALUES (?, ?, ?)", density_rows())
    yield modbus, opcua, drop, company_db
    opcua.stop()
    modbus.stop()


def e2e_config(tmp_path, manifest, modbus, opcua, drop, company_db) -> dict:
    return {
        "agent": {"database": str(tmp_path / "agent.sqlite3"), "decimals": 3},
        "system": system_config(manifest, tmp_path),
        "schedule": {"first_day": DAY1, "poll_seconds": 1800},
        "sources": [
            {
                "name": "tank-plc",
                "type": "modbus",
                "host": "127.0.0.1",
                "port": modbus.port,
                "unit": 1,
                "registers": [
                    {"tag": "T1.level", "address": 0, "type": "float32"},
                    {"tag": "T1.volume", "address": 2, "type": "float32"},
                ],
            },
            {
                "name": "metering-scada",
                "type": "opcua",
                "url": opcua.url,
                "nodes": [
                    {"tag": "M1.mass", "node": opcua.node_id("M1.Mass")},
                    {"tag": "M1.volume", "node": opcua.node_id("M1.Volume")},
                ],
            },
            {"name": "gas-exports", "type": "folder", "path": str(drop)},
            {
                "name": "lab-db",
                "type": "sql",
                "url": f"sqlite:///{company_db}",
                "query": "SELECT tag, measured_at, value FROM lab WHERE measured_at > :since AND measured_at <= :until",
            },
        ],
        "devices": [
            {
                "object_id": "407004",
                "kind": "1.2",
                "device": "2",
                "device_type": 1,
                "operation_type": 7,
                "product_type": 1,
                "quantities": {
                    "tankLevel": {"tag": "T1.level", "unit": "m"},
                    "volume": {"tag": "T1.volume", "unit": "m3"},
                },
            },
            {
                "object_id": "407001",
                "kind": "1.3",
                "device": "1",
                "device_type": 2,
                "operation_type": 3,
                "product_type": 1,
                "pipeline": 3,
                "quantities": {"volume": {"tag": "M1.volume", "unit": "l"}},
                "totaliser": {"tag": "M1.mass", "unit": "kg"},
            },
            {
                "object_id": "904001",
                "kind": "1.4",
                "device": "1",
                "device_type": 10,
                "operation_type": 17,
                "product_type": 3,
                "quantities": {
                    "temperature": {"tag": "G1.temp", "unit": "K"},
                    "pressure": {"tag": "G1.pressure", "unit": "MPa"},
                    "volume": {"tag": "G1.volume", "unit": "m3"},
                },
            },
            {
                "object_id": "909001",
                "kind": "1.9",
                "device": "1",
                "device_type": 10,
                "operation_type": 18,
                "product_type": 4,
                "quantities": {"density": {"tag": "UGS.density", "unit": "kg/m3"}},
            },
        ],
    }


def expected_values() -> dict[str, dict[tuple[str, str, datetime], Decimal]]:
    """Every value the System must hold after DAY1, computed here from what the devices were given."""
    periods = [("PT2H", 4 * j, 4 * j + 4, START + timedelta(hours=2 * j)) for j in range(12)]
    periods.append(("P1D", 0, 48, START))
    tank, flow, gas, ugs = {}, {}, {}, {}
    gas_by_tag: dict[str, list[tuple[datetime, Decimal]]] = {}
    for at, tag, value in gas_rows():
        gas_by_tag.setdefault(tag, []).append((at, Decimal(value)))
    for interval, first, last, start in periods:
        polls = range(first, last)
        end = start + HALF_HOUR * (last - first)
        tank[("tankLevel", interval, start)] = r3(mean([Decimal(repr(level_m(k))) for k in polls]) * 100)
        tank[("volume", interval, start)] = r3(mean([Decimal(repr(tank_volume(k))) for k in polls]))
        flow[("volume", interval, start)] = r3(mean([Decimal(repr(flow_litres(k))) for k in polls]) / 1000)
        begin, close = r3(Decimal(repr(mass_kg(first))) / 1000), r3(Decimal(repr(mass_kg(last))) / 1000)
        flow[("massflowbegin", interval, start)] = begin
        flow[("massflowend", interval, start)] = close
        flow[("mass", interval, start)] = close - begin
        inside = {tag: [v for at, v in rows if start <= at < end] for tag, rows in gas_by_tag.items()}
        gas[("temperature", interval, start)] = r3(mean([v - Decimal("273.15") for v in inside["G1.temp"]]))
        gas[("pressure", interval, start)] = r3(mean([v * 1000 for v in inside["G1.pressure"]]))
        gas[("volume", interval, start)] = r3(mean(inside["G1.volume"]))
        hours = [h for h in range(24) if start <= START + timedelta(hours=h) < end]
        ugs[("density", interval, start)] = r3(mean([Decimal(repr(700 + 0.5 * (h % 6))) for h in hours]))
    return {"407004": tank, "407001": flow, "904001": gas, "909001": ugs}


def test_a_day_from_modbus_opcua_folder_and_sql_lands_in_the_system_exactly(stand, devices_world, tmp_path):
    # given the stand, the device servers and an agent configured for all four sources
    var, manifest = stand
    modbus, opcua, drop, company_db = devices_world
    config = load_config(
        write_config(tmp_path / "agent.toml", e2e_config(tmp_path, manifest, modbus, opcua, drop, company_db))
    )
    clock = ManualClock(START)
    agent = Agent(config, clock=clock)

    def devices_now(now: datetime) -> None:  # the meters move every half hour
        k = int((now - START) / HALF_HOUR)
        modbus.set_float32(0, level_m(k))
        modbus.set_float32(2, tank_volume(k))
        opcua.set("M1.Mass", mass_kg(k))
        opcua.set("M1.Volume", flow_litres(k))

    # when the agent runs the whole Astana day on the controllable clock (and the 15-minute settle after it)
    try:
        agent.run(until=local(DAY1 + timedelta(days=1), minute=15), before_tick=devices_now)
        status = agent.status()
    finally:
        agent.close()

    # then every period went out at its slot and was accepted
    assert status["pending"] == []
    assert status["delivered"] == 13
    assert status["rejected_records"] == 0
    # it woke for the polls, and 15 minutes after each slot to build the period just closed
    woke = set(clock.sleeps)
    assert {START + HALF_HOUR * n for n in range(1, 48)} <= woke
    assert {START + timedelta(hours=2 * n, minutes=15) for n in range(1, 13)} <= woke
    # and the System's database holds exactly the expected values, once each
    for object_id, expected in expected_values().items():
        stored = system_readings(var, object_id)
        device = "2" if object_id == "407004" else "1"
        assert {(q, i, s): v for (d, q, i, s), v in stored.items() if d == device} == {
            key: [(value, 1)] for key, value in expected.items()
        }, object_id
    assert not list(drop.glob("*.csv")) and (drop / "done" / "gas-2026-03-10.csv").exists()


# ---------------------------------------------------------------- the System away for a day

DAY_DOWN = date(2026, 3, 20)


def tank_csv(drop: Path, tag: str, start: datetime, hours: int) -> dict[datetime, Decimal]:
    """A level every 30 minutes; returns value by instant."""
    values = {start + HALF_HOUR * i: Decimal(300 + i % 9) for i in range(hours * 2)}
    lines = ["tag,time,value"] + [f"{tag},{at.isoformat()},{v}" for at, v in values.items()]
    (drop / f"{tag}.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return values


def test_system_down_for_a_day_then_back_every_period_arrives_once_oldest_first(stand, tmp_path):
    # given an agent whose gateway drops every connection on DAY_DOWN
    var, manifest = stand
    proxy = GatewayProxy(manifest["endpoint"]).start()
    drop = tmp_path / "drop"
    drop.mkdir()
    start = local(DAY_DOWN)
    back = local(DAY_DOWN + timedelta(days=1))
    samples = tank_csv(drop, "T5.level", start, 30)
    data = {
        "agent": {"database": str(tmp_path / "agent.sqlite3")},
        "system": system_config(manifest, tmp_path, endpoint=proxy.url),
        "schedule": {"first_day": DAY_DOWN, "poll_seconds": 3600},
        "sources": [{"name": "exports", "type": "folder", "path": str(drop)}],
        "devices": [
            {
                "object_id": "407005",
                "kind": "1.2",
                "device": "2",
                "device_type": 1,
                "operation_type": 7,
                "product_type": 1,
                "quantities": {"tankLevel": {"tag": "T5.level", "unit": "cm"}},
            }
        ],
    }
    config = load_config(write_config(tmp_path / "agent.toml", data))
    clock = ManualClock(start)
    agent = Agent(config, clock=clock)

    def gateway(now: datetime) -> None:
        proxy.down = now < back

    # when the agent runs through the outage and six hours of the next day (and the settle time)
    try:
        agent.run(until=back + timedelta(hours=6, minutes=15), before_tick=gateway)
        messages = agent.outbox.all_messages()
        attempts = agent.outbox.attempts()
    finally:
        agent.close()
        proxy.stop()

    # then every period of both days was delivered, each messageId reaching the System once
    assert len(messages) == 13 + 3 and all(m.state == "delivered" for m in messages)
    assert Counter(proxy.forwarded) == Counter({m.message_id: 1 for m in messages})
    # oldest first: the System received them in period order
    order = {
        m.message_id: (m.period_end, m.interval == "P1D") for m in messages
    }  # the day after its last two hours
    assert proxy.forwarded == sorted(proxy.forwarded, key=lambda mid: order[mid])
    # never more than 3 attempts per message on one Astana day; retries 30 minutes apart
    per_day = Counter((a.message_id, a.at.astimezone(ASTANA).date()) for a in attempts)
    assert max(per_day.values()) == 3
    first = [a for a in attempts if a.message_id == messages[0].message_id]
    assert [a.at - first[0].at for a in first[:3]] == [timedelta(0), HALF_HOUR, 2 * HALF_HOUR]
    assert first[3].at == back and first[3].outcome == "delivered"
    # and the System holds each value once, as sent
    stored = system_readings(var, "407005")
    assert len(stored) == 16 and all(len(v) == 1 and v[0][1] == 1 for v in stored.values())
    two_hour = start + timedelta(hours=4)
    expected = r3(mean([samples[two_hour + HALF_HOUR * i] for i in range(4)]))
    assert stored[("2", "tankLevel", "PT2H", two_hour)] == [(expected, 1)]
    day_mean = r3(mean([v for at, v in samples.items() if start <= at < back]))
    assert stored[("2", "tankLevel", "P1D", start)] == [(day_mean, 1)]


# ---------------------------------------------------------------- SIGKILL between the System's answer and the agent

DAY_KILL = date(2026, 3, 25)


def test_agent_killed_mid_send_loses_nothing_and_duplicates_nothing(stand, tmp_path):
    # given the agent as a real process behind a gateway that kills it once the System has answered message 2
    var, manifest = stand
    proxy = GatewayProxy(manifest["endpoint"]).start()
    drop = tmp_path / "drop"
    drop.mkdir()
    start = local(DAY_KILL)
    tank_csv(drop, "T6.level", start, 10)
    data = {
        "agent": {"database": str(tmp_path / "agent.sqlite3")},
        "system": system_config(manifest, tmp_path, endpoint=proxy.url),
        "schedule": {"first_day": DAY_KILL, "poll_seconds": 3600, "daily": False},
        "sources": [{"name": "exports", "type": "folder", "path": str(drop)}],
        "devices": [
            {
                "object_id": "407006",
                "kind": "1.2",
                "device": "2",
                "device_type": 1,
                "operation_type": 7,
                "product_type": 1,
                "quantities": {"tankLevel": {"tag": "T6.level", "unit": "cm"}},
            }
        ],
    }
    config_path = write_config(tmp_path / "agent.toml", data)
    command = [
        sys.executable,
        "-c",
        "from egsu_agent.cli import main; main()",
        "run",
        "-c",
        str(config_path),
        "--replay-from",
        start.isoformat(),
        "--until",
        (start + timedelta(hours=8, minutes=15)).isoformat(),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EGSU_", "PYTEST"))}
    agent = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)

    def kill_on_second(message_id: str) -> None:
        if len(proxy.forwarded) == 2:
            os.kill(agent.pid, signal.SIGKILL)
            agent.wait(10)

    proxy.after_answer = kill_on_second

    # when it is killed, then started again
    try:
        agent.wait(60)
        assert agent.returncode == -signal.SIGKILL
        proxy.after_answer = None
        again = subprocess.run(command, env=env, capture_output=True, timeout=60)
        assert again.returncode == 0, again.stderr.decode()[-2000:]
    finally:
        proxy.stop()

    # then the interrupted message was sent again with the same messageId, and all four periods arrived
    outbox = Outbox(Path(tmp_path / "agent.sqlite3"))
    try:
        messages = outbox.all_messages()
        attempts = outbox.attempts()
    finally:
        outbox.close()
    assert len(messages) == 4 and all(m.state == "delivered" for m in messages)
    counts = Counter(proxy.forwarded)
    assert counts[messages[1].message_id] == 2 and sum(counts.values()) == 5
    assert [a.outcome for a in attempts if a.message_id == messages[1].message_id] == [
        "interrupted",
        "delivered",
    ]
    # and the System holds each period's value exactly once (revision 1, no duplicates)
    stored = system_readings(var, "407006")
    assert sorted(k[3] for k in stored) == [start + timedelta(hours=2 * j) for j in range(4)]
    assert all(v == [(v[0][0], 1)] for v in stored.values())


# ---------------------------------------------------------------- the whole story: late data, a fault, an outage

STORY = date(2026, 4, 7)
S0 = local(STORY)
TEN = timedelta(minutes=10)


def at(hour: float, day: int = 0) -> datetime:
    return S0 + timedelta(days=day, hours=hour)


def story_level(k: int) -> float:
    return 4 + 0.5 * (k % 6)


def story_volume(k: int) -> float:
    return 200 + 2.5 * (k % 4)


def story_gas() -> dict[int, list[tuple[datetime, str, Decimal]]]:
    """Gas samples every 15 minutes, by the hour of the export that carries them."""
    out: dict[int, list] = {}
    for i in range(96):
        moment = S0 + timedelta(minutes=15 * i)
        out.setdefault(i // 4, []).extend(
            [
                (moment, "G1.temp", Decimal("280.15") + i % 5),
                (moment, "G1.pressure", Decimal("0.4") + Decimal("0.02") * (i % 4)),
                (moment, "G1.volume", Decimal(900 + 7 * i)),
            ]
        )
    return out


def gas_drop_time(hour: int) -> datetime:
    if hour == 6:
        return at(8 + 40 / 60)  # 1 h 40 late: after the 08:00 period was built
    if 18 <= hour < 22:
        return at(1, day=1)  # the next night
    return at(hour + 1) + timedelta(minutes=5)


def lab_rows() -> list[tuple[datetime, str, float]]:
    """(written at, measured at as Astana text, density): hourly, two of them written late."""
    rows = []
    for hour in range(24):
        measured = at(hour)
        written = measured + timedelta(minutes=2)
        if hour == 9:
            written = at(15)  # six hours late, during the outage
        if hour == 20:
            written = at(2, day=1)  # the next night
        rows.append(
            (written, measured.astimezone(ASTANA).strftime("%Y-%m-%d %H:%M:%S"), 690 + 0.5 * (hour % 7))
        )
    return sorted(rows)


def story_expected() -> dict[str, dict[tuple[str, str, datetime], Decimal]]:
    periods = [("PT2H", at(2 * j), at(2 * j + 2)) for j in range(12)] + [("P1D", at(0), at(24))]
    gas = [row for rows in story_gas().values() for row in rows]
    density = {at(hour): Decimal(repr(690 + 0.5 * (hour % 7))) for hour in range(24)}
    tank, unit, ugs = {}, {}, {}
    for interval, start, end in periods:
        polls = range(int((start - S0) / TEN), int((end - S0) / TEN))
        tank[("tankLevel", interval, start)] = r3(mean([Decimal(repr(story_level(k))) for k in polls]) * 100)
        tank[("volume", interval, start)] = r3(mean([Decimal(repr(story_volume(k))) for k in polls]))
        inside = [(tag, v) for moment, tag, v in gas if start <= moment < end]
        unit[("temperature", interval, start)] = r3(
            mean([v - Decimal("273.15") for t, v in inside if t == "G1.temp"])
        )
        unit[("pressure", interval, start)] = r3(mean([v * 1000 for t, v in inside if t == "G1.pressure"]))
        unit[("volume", interval, start)] = r3(mean([v for t, v in inside if t == "G1.volume"]))
        ugs[("density", interval, start)] = r3(
            mean([v for moment, v in density.items() if start <= moment < end])
        )
    return {"407004": tank, "904001": unit, "909001": ugs}


def latest(stored: dict, device: str) -> dict:
    """The newest revision of each value of the story's day (the agent ran into the next night too)."""
    return {
        (q, i, s): max(values, key=lambda v: v[1])[0]
        for (d, q, i, s), values in stored.items()
        if d == device and at(0) <= s < at(24)
    }


def test_a_day_of_late_files_late_rows_a_device_fault_and_an_outage_lands_exactly_with_every_notice_on_time(
    stand, tmp_path
):
    from tests.smtp import SmtpSink

    # given the System behind a gateway, a tank PLC with a status register, a gas unit exporting hourly
    # files (one 1 h 40 late, four of them the next night), a lab database (one row 6 h late, one the
    # next night), and a mail server
    var, manifest = stand
    proxy = GatewayProxy(manifest["endpoint"]).start()
    smtp = SmtpSink().start()
    modbus = ModbusSimulator().start()
    drop = tmp_path / "drop"
    drop.mkdir()
    lab = sqlite3.connect(tmp_path / "lab.db", isolation_level=None)
    lab.execute(
        "CREATE TABLE lab (id INTEGER PRIMARY KEY AUTOINCREMENT, tag TEXT, measured_at TEXT, value REAL)"
    )
    gas, pending_lab = story_gas(), lab_rows()
    data = {
        "agent": {"database": str(tmp_path / "agent.sqlite3")},
        "system": {**system_config(manifest, tmp_path, endpoint=proxy.url), "system_cert": manifest["system_cert"]},
        "schedule": {"first_day": STORY, "poll_seconds": 600},
        "notices": {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "from": "agent@demo-munai.kz",
                    "company": "Demo Munai LLP", "data_operator": ["operator@egsu.kz"],
                    "authorized_body": ["duty@energo.gov.kz"], "no_data_after_minutes": 150},
        "sources": [
            {"name": "tank-plc", "type": "modbus", "host": "127.0.0.1", "port": modbus.port, "registers": [
                {"tag": "T1.level", "address": 0}, {"tag": "T1.volume", "address": 2},
                {"tag": "T1.status", "address": 4, "type": "uint16"}]},
            {"name": "gas-exports", "type": "folder", "path": str(drop)},
            {"name": "lab-db", "type": "sql", "url": f"sqlite:///{tmp_path / 'lab.db'}",
             "query": "SELECT tag, measured_at, value, id AS marker FROM lab WHERE id > :marker ORDER BY id"},
        ],
        "devices": [
            {"object_id": "407004", "kind": "1.2", "device": "2", "device_type": 1, "operation_type": 7,
             "product_type": 1, "status_tag": "T1.status", "quantities": {
                 "tankLevel": {"tag": "T1.level", "unit": "m"}, "volume": {"tag": "T1.volume", "unit": "m3"}}},
            {"object_id": "904001", "kind": "1.4", "device": "1", "device_type": 10, "operation_type": 17,
             "product_type": 3, "quantities": {"temperature": {"tag": "G1.temp", "unit": "K"},
                                               "pressure": {"tag": "G1.pressure", "unit": "MPa"},
                                               "volume": {"tag": "G1.volume", "unit": "m3"}}},
            {"object_id": "909001", "kind": "1.9", "device": "1", "device_type": 10, "operation_type": 18,
             "product_type": 4, "quantities": {"density": {"tag": "UGS.density", "unit": "kg/m3"}}},
        ],
    }  # fmt: skip
    config = load_config(write_config(tmp_path / "agent.toml", data))
    clock = ManualClock(S0)
    agent = Agent(config, clock=clock)

    def world(now: datetime) -> None:
        k = int((now - S0) / TEN)
        modbus.set_float32(0, story_level(k))
        modbus.set_float32(2, story_volume(k))
        modbus.set_uint16(4, 1 if at(13 + 10 / 60) <= now < at(14 + 20 / 60) else 0)  # a fault 13:10–14:20
        proxy.down = at(10) <= now < at(16)  # the System away 10:00–16:00
        for hour in [h for h in gas if gas_drop_time(h) <= now]:
            lines = ["tag,time,value"] + [
                f"{t},{m.astimezone(ASTANA).isoformat()},{v}" for m, t, v in gas.pop(hour)
            ]
            (drop / f"gas-{hour:02d}.csv").write_text("\n".join(lines) + "\n")
        while pending_lab and pending_lab[0][0] <= now:
            _, measured, value = pending_lab.pop(0)
            lab.execute(
                "INSERT INTO lab (tag, measured_at, value) VALUES ('UGS.density', ?, ?)", (measured, value)
            )

    # when the agent runs the day and the next night
    try:
        agent.run(until=at(3, day=1), before_tick=world)
        status = agent.status()
        notices = {n.subject: n for n in agent.outbox.all_notices()}
    finally:
        agent.close()
        modbus.stop()
        smtp.stop()
        proxy.stop()
        lab.close()

    # then nothing is owed, corrections went out, and the System's latest values are exactly the full data's
    assert status["owed"] == [] and status["rejected_records"] == 0
    assert status["corrections_delivered"] >= 5
    for object_id, expected in story_expected().items():
        device = "2" if object_id == "407004" else "1"
        assert latest(system_readings(var, object_id), device) == expected, object_id

    # and every notice went at its moment, to both addresses
    def sent(words: str) -> datetime:
        (notice,) = [n for subject, n in notices.items() if words in subject]
        return notice.sent_at

    order = "\n".join(
        f"{n.sent_at} {subject}" for subject, n in sorted(notices.items(), key=lambda i: i[1].sent_at)
    )
    assert len(smtp.messages) == len(notices) == 8, order
    assert sent("data cannot be delivered to the System since 2026-04-07 10:15") == at(11.25)  # 3rd failure
    assert sent("restored — data cannot be delivered") == at(16.25)
    assert sent("fault of device 2 of object 407004 since 2026-04-07 13:10") == at(13 + 10 / 60)  # INT-11
    assert sent("restored — fault of device 2") == at(14 + 20 / 60)
    no_data = sent("no data from device 1 of object 904001 since 2026-04-07 17:45")
    assert no_data == at(17.75) + timedelta(minutes=150) and no_data - at(17.75) <= timedelta(
        hours=3
    )  # INT-10
    assert (
        sent("restored — no data from device 1 of object 904001") == at(23) + TEN
    )  # the poll after the drop
    # the story's data ends at midnight: 150 minutes after each last sample, the silence is reported
    assert sent("no data from device 1 of object 909001 since 2026-04-07 23:00") == at(23) + timedelta(
        minutes=150
    )
    assert sent("no data from device 1 of object 904001 since 2026-04-07 23:45") == at(23.75) + timedelta(
        minutes=150
    )
