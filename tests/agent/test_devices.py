"""Modbus and OPC UA variants against real simulated servers (pymodbus TCP server, asyncua server).

Register words are made here with ``struct`` (bytes big-endian in each 16-bit word, as
Modbus defines; word order big or little), independently of pymodbus's own conversion,
so the agent's decoding is checked against the wire, not against itself.
"""

from __future__ import annotations

import struct
from datetime import date, timedelta
from decimal import Decimal

import pytest

from egsu_agent.config import ModbusSourceConfig, OpcUaSourceConfig, load_config
from egsu_agent.schedule import ManualClock, local_instant
from egsu_agent.service import Agent
from egsu_agent.sources.modbus import ModbusSource
from egsu_agent.sources.opcua import OpcUaSource
from tests.agent.conftest import FakeSystem, base_config, write_config
from tests.agent.devices import ModbusSimulator, OpcUaSimulator
from tests.agent.test_late_data import records_of
from tests.smtp import SmtpSink

NOW = local_instant(date(2026, 3, 10), 0)
FORMATS = {"int16": ">h", "uint16": ">H", "int32": ">i", "uint32": ">I", "float32": ">f", "float64": ">d"}


def words(kind: str, value, order: str) -> list[int]:
    raw = struct.pack(FORMATS[kind], value)
    out = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return out if order == "big" else out[::-1]


# (tag, type, raw value, word order, table, scale, offset, expected value kept)
CASES = [
    ("i16", "int16", -12345, "big", "holding", 0.1, 0.0, Decimal("-1234.5")),
    ("u16", "uint16", 54321, "big", "holding", 1.0, 0.0, Decimal(54321)),
    ("u16in", "uint16", 300, "big", "input", 0.01, 1.0, Decimal("4.00")),
    ("i32b", "int32", -2_000_000_000, "big", "holding", 1.0, 0.0, Decimal(-2_000_000_000)),
    ("i32l", "int32", -2_000_000_000, "little", "input", 1.0, 0.0, Decimal(-2_000_000_000)),
    ("u32l", "uint32", 4_000_000_000, "little", "holding", 1.0, 0.0, Decimal(4_000_000_000)),
    ("u32b", "uint32", 4_000_000_000, "big", "input", 0.001, 0.0, Decimal("4000000.000")),
    ("f32b", "float32", 1234.5, "big", "input", 1.0, -273.15, Decimal("961.35")),
    ("f32l", "float32", 1234.5, "little", "holding", 1.0, 0.0, Decimal("1234.5")),
    ("f64b", "float64", 123456.789, "big", "input", 1.0, 0.0, Decimal("123456.789")),
    ("f64l", "float64", 123456.789, "little", "holding", 1000.0, 0.0, Decimal("123456789.000")),
]


@pytest.fixture(scope="module")
def plc():
    """One PLC: input registers fixed at start, holding registers written over Modbus by the test."""
    layout, address = {}, 0
    for case in CASES:
        layout[case[0]] = address
        address += 4
    inputs = {layout[c[0]]: words(c[1], c[2], c[3]) for c in CASES if c[4] == "input"}
    server = ModbusSimulator(input_registers=inputs).start()
    for case in CASES:
        if case[4] == "holding":
            server.set_words(layout[case[0]], words(case[1], case[2], case[3]))
    yield server, layout
    server.stop()


def test_every_register_type_word_order_table_scale_and_offset(plc):
    server, layout = plc
    config = ModbusSourceConfig.model_validate(
        {
            "name": "plc",
            "type": "modbus",
            "host": "127.0.0.1",
            "port": server.port,
            "registers": [
                {"tag": tag, "address": layout[tag], "type": kind, "word_order": order, "table": table,
                 "scale": scale, "offset": offset}
                for tag, kind, _, order, table, scale, offset, _ in CASES
            ],
        }
    )  # fmt: skip
    source = ModbusSource(config)
    try:
        batch = source.read(NOW)
    finally:
        source.close()
    got = {s.tag: s.value for s in batch.samples}
    assert {tag: got[tag] for tag in got} == {case[0]: case[7] for case in CASES}
    assert all(s.at == NOW and not s.fault for s in batch.samples)


def test_the_wrong_word_order_reads_another_number(plc):
    # the guard for the test itself: the two orders really differ on the wire
    server, layout = plc
    config = ModbusSourceConfig.model_validate(
        {"name": "plc", "type": "modbus", "host": "127.0.0.1", "port": server.port,
         "registers": [{"tag": "x", "address": layout["f32b"], "type": "float32", "table": "input", "word_order": "little"}]}
    )  # fmt: skip
    source = ModbusSource(config)
    try:
        (sample,) = source.read(NOW).samples
    finally:
        source.close()
    assert sample.value != Decimal("1234.5")


# ---------------------------------------------------------------- OPC UA statuses


@pytest.fixture(scope="module")
def scada():
    server = OpcUaSimulator(["Good", "Bad", "Uncertain", "Volume", "Mass"]).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("uncertain", "expected"),
    [
        pytest.param(
            "fault",
            {"good": (Decimal("5.5"), False, ""),
             "bad": (Decimal(0), True, "OPC UA status BadSensorFailure"),
             "uncertain": (Decimal("6.0"), True, "OPC UA status UncertainLastUsableValue")},
            id="uncertain-is-a-fault-by-default",
        ),
        pytest.param(
            "accept",
            {"good": (Decimal("5.5"), False, ""),
             "bad": (Decimal(0), True, "OPC UA status BadSensorFailure"),
             "uncertain": (Decimal("6.0"), False, "OPC UA status UncertainLastUsableValue")},
            id="uncertain-accepted",
        ),
    ],
)  # fmt: skip
def test_opcua_bad_and_uncertain_statuses(scada, uncertain, expected):
    # a Bad value comes without its number (the server withholds it): kept as a faulty 0, never averaged
    scada.set_status("Good", 5.5, "Good")
    scada.set_status("Bad", 7.25, "BadSensorFailure")
    scada.set_status("Uncertain", 6.0, "UncertainLastUsableValue")
    config = OpcUaSourceConfig.model_validate(
        {"name": "scada", "type": "opcua", "url": scada.url, "uncertain": uncertain,
         "nodes": [{"tag": t.lower(), "node": scada.node_id(t)} for t in ("Good", "Bad", "Uncertain")]}
    )  # fmt: skip
    source = OpcUaSource(config)
    try:
        batch = source.read(NOW)
    finally:
        source.close()
    assert {s.tag: (s.value, s.fault, s.note) for s in batch.samples} == expected


def test_an_opcua_bad_status_is_mailed_at_once_and_marks_the_period(scada, tmp_path, key_and_cert):
    # given a metering station read over OPC UA every ten minutes, and a mail server
    smtp = SmtpSink().start()
    scada.set_status("Volume", 20000, "Good")
    scada.set_status("Mass", 1_000_000, "Good")
    data = base_config(tmp_path, key_and_cert)
    data["schedule"].update({"daily": False, "poll_seconds": 600})
    data["notices"] = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "from": "a@demo.kz", "company": "Demo",
                       "data_operator": ["o@egsu.kz"], "authorized_body": ["d@energo.kz"]}  # fmt: skip
    data["sources"] = [
        {
            "name": "scada",
            "type": "opcua",
            "url": scada.url,
            "nodes": [
                {"tag": "M1.volume", "node": scada.node_id("Volume")},
                {"tag": "M1.mass", "node": scada.node_id("Mass")},
            ],
        }
    ]
    data["devices"] = [{"object_id": "407001", "kind": "1.3", "device": "1", "device_type": 2, "operation_type": 3,
                        "product_type": 1, "pipeline": 3, "quantities": {"volume": {"tag": "M1.volume", "unit": "l"}},
                        "totaliser": {"tag": "M1.mass", "unit": "kg"}}]  # fmt: skip
    system = FakeSystem()
    agent = Agent(
        load_config(write_config(tmp_path / "agent.toml", data)), clock=ManualClock(NOW), channel=system
    )

    def station(now):
        minute = int((now - NOW).total_seconds() // 60)
        scada.set_status("Mass", 1_000_000 + 100 * minute, "Good")
        scada.set_status("Volume", 20000, "BadSensorFailure" if 40 <= minute < 70 else "Good")

    # when the volume sensor fails at 00:40 and comes back at 01:10
    try:
        agent.run(until=NOW + timedelta(hours=2, minutes=15), before_tick=station)
        notices = agent.outbox.all_notices()
    finally:
        agent.close()
        smtp.stop()
    # then the fault was mailed at 00:40, naming the OPC UA status, and its end at 01:10
    mails = [(m["Subject"], m.get_content()) for _, m in smtp.messages]
    assert "fault of device 1 of object 407001 since 2026-03-10 00:40" in mails[0][0]
    assert (
        "Detected at: 2026-03-10 00:40" in mails[0][1]
        and "M1.volume: OPC UA status BadSensorFailure" in mails[0][1]
    )
    assert "restored" in mails[1][0] and "Restored at: 2026-03-10 01:10" in mails[1][1]
    assert [n.sent_at - NOW for n in notices] == [timedelta(minutes=40), timedelta(minutes=70)]
    # and the period's record says the device was not serviceable, its volume the mean of the good readings
    (record,) = records_of(system.posts[0][1])
    assert record["deviceStatus"] == "no" and record["volume"] == "20.000"
    assert record["mass"] == "12.000"  # (1,012,000 − 1,000,000) kg
