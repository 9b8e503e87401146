"""The configuration file: a valid one loads; every mistake is named with its key path."""

from __future__ import annotations

import copy

import pytest
from typer.testing import CliRunner

from egsu_agent.cli import app
from egsu_agent.config import ConfigError, load_config
from tests.agent.conftest import base_config, write_config


def test_a_valid_configuration_loads_with_defaults(tmp_path, key_and_cert):
    config = load_config(write_config(tmp_path / "agent.toml", base_config(tmp_path, key_and_cert)))
    assert config.system.service_id == "ISUN_Service2"
    assert config.delivery.attempts_per_day == 3 and config.delivery.retry_after.total_seconds() == 1800
    assert config.delivery.max_message_bytes == 15_000_000
    (device,) = config.devices
    assert [(q.quantity, q.tag, q.unit) for q in device.quantity_maps] == [
        ("tankLevel", "T1.level", "m"),
        ("volume", "T1.volume", "m3"),
    ]


def _broken(tmp_path, key_and_cert, change):
    data = copy.deepcopy(base_config(tmp_path, key_and_cert))
    change(data)
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path / "agent.toml", data))
    return error.value.problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(lambda d: d["system"].update(sender="x"), "system.sender: unknown key", id="typo-key"),
        pytest.param(lambda d: d["system"].pop("sender_id"), "system.sender_id: missing", id="missing-key"),
        pytest.param(
            lambda d: d["schedule"].update(poll_seconds="60"),
            "schedule.poll_seconds: '60' is not a whole number",
            id="wrong-type",
        ),
        pytest.param(
            lambda d: d["devices"][0].update(kind="1.10"),
            "devices[0].kind: '1.10' is not an App.2 table",
            id="unknown-table",
        ),
        pytest.param(
            lambda d: d["devices"][0].update(operation_type=6),
            "devices[0].operation_type: 6 is not allowed in table 1.2",
            id="FMT-07",
        ),
        pytest.param(
            lambda d: d["devices"][0].update(device_type=10),
            "devices[0].device_type: 10 is not allowed in table 1.2",
            id="FMT-06",
        ),
        pytest.param(
            lambda d: d["devices"][0].update(pipeline=3),
            "devices[0].pipeline: table 1.2 has no pipelineId",
            id="pipeline-not-in-table",
        ),
        pytest.param(
            lambda d: d["devices"][0]["quantities"]["tankLevel"].update(unit="furlong"),
            "devices[0].quantities.tankLevel.unit: 'furlong' is not a length unit",
            id="bad-unit",
        ),
        pytest.param(
            lambda d: d["devices"][0]["quantities"].update(pressure={"tag": "P", "unit": "kPa"}),
            "devices[0].quantities.pressure: table 1.2 does not carry pressure",
            id="quantity-not-in-table",
        ),
        pytest.param(
            lambda d: d["sources"][0].update(type="ftp"),
            "sources[0].type: 'ftp' is not a source type",
            id="bad-source-type",
        ),
        pytest.param(
            lambda d: d["sources"][0].update(path="/nonexistent/drop"),
            "sources[0].path: /nonexistent/drop does not exist",
            id="missing-folder",
        ),
        pytest.param(
            lambda d: d["system"].update(sign_key="/nonexistent.key"),
            "system.sign_key: /nonexistent.key does not exist",
            id="missing-key-file",
        ),
        pytest.param(
            lambda d: (
                d["delivery"].update({}) if "delivery" in d else d.update(delivery={"attempts_per_day": 5})
            ),
            "delivery.attempts_per_day: 5 is outside 1…3",
            id="INT-14",
        ),
        pytest.param(
            lambda d: d.update(devices=d["devices"] * 2),
            "devices[1]: object 407004 device 2 is already devices[0]",
            id="duplicate-device",
        ),
        pytest.param(
            lambda d: d.update(
                notices={
                    "smtp_host": "h",
                    "from": "a@b.kz",
                    "company": "C",
                    "data_operator": ["nope"],
                    "authorized_body": ["m@e.kz"],
                }
            ),
            "notices.data_operator[0]: 'nope' is not an e-mail address",
            id="bad-address",
        ),
        pytest.param(
            lambda d: d.update(
                sources=[
                    {"name": "plc", "type": "modbus", "host": "h", "registers": [{"tag": "X", "address": 0}]}
                ]
            ),
            "devices[0]: tag 'T1.level' is read by no source",
            id="tag-without-source",
        ),
    ],
)
def test_every_mistake_is_reported_with_its_key_path(tmp_path, key_and_cert, change, expected):
    problems = _broken(tmp_path, key_and_cert, change)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_all_mistakes_are_reported_at_once(tmp_path, key_and_cert):
    def two(d):
        d["system"]["sender"] = "x"
        d["devices"][0]["kind"] = "9.9"

    assert len(_broken(tmp_path, key_and_cert, two)) == 2


def test_check_config_command_exits_2_and_names_the_file(tmp_path, key_and_cert):
    data = base_config(tmp_path, key_and_cert)
    data["schedule"]["frist_day"] = "typo"
    path = write_config(tmp_path / "agent.toml", data)
    result = CliRunner().invoke(app, ["check-config", "-c", str(path)])
    assert result.exit_code == 2
    good = write_config(tmp_path / "good.toml", base_config(tmp_path, key_and_cert))
    ok = CliRunner().invoke(app, ["check-config", "-c", str(good)])
    assert ok.exit_code == 0 and "configuration is valid" in ok.output


def test_the_readme_examples_are_valid_configurations(tmp_path, key_and_cert, monkeypatch):
    # given the first-message example and the whole worked example of agent/README.md, their
    # machine-specific paths pointed here and their key store made of the test key
    import re
    import tomllib

    from cryptography.hazmat.primitives import serialization

    from egsu_core.pki import pkcs12
    from egsu_core.pki.certs import load_certificate
    from tests.agent.conftest import ROOT

    key = serialization.load_pem_private_key(key_and_cert[0].read_bytes(), password=None)
    store = tmp_path / "owner.p12"
    store.write_bytes(
        pkcs12.dump(key, load_certificate(key_and_cert[1].read_bytes()), "p12-pw", iterations=1000)
    )
    (tmp_path / "p12.pass").write_text("p12-pw\n")
    monkeypatch.setenv("OWNER_P12_PASSWORD", "p12-pw")
    readme = (ROOT / "agent" / "README.md").read_text("utf-8")
    first, whole = (tomllib.loads(block) for block in re.findall(r"```toml\n(.*?)```", readme, re.S))
    kinds = []
    for data in (first, whole):
        data["system"].pop("password_env")
        data["system"].update(password="x", key_store=str(store), system_cert=str(key_and_cert[1]))
        if "key_store_password_file" in data["system"]:
            data["system"]["key_store_password_file"] = str(tmp_path / "p12.pass")
        data["agent"]["database"] = str(tmp_path / "agent.sqlite3")
        (tmp_path / "exports").mkdir(exist_ok=True)
        next(s for s in data["sources"] if s["type"] == "folder")["path"] = str(tmp_path / "exports")
        # when loaded, then it is valid as written
        config = load_config(write_config(tmp_path / "agent.toml", data))
        assert config.system.identity.certificate_der == load_certificate(key_and_cert[1].read_bytes()).der
        kinds.append(([d.kind for d in config.devices], {s.type for s in config.sources}))
    assert kinds == [
        (["1.2"], {"folder"}),
        (["1.2", "1.3", "1.4", "1.9"], {"modbus", "opcua", "folder", "sql"}),
    ]


# ---------------------------------------------------------------- every unread or unknown tag, whatever the sources


def _check(path):
    result = CliRunner().invoke(app, ["check-config", "-c", str(path)])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes is not None else "")


def test_a_mistyped_tag_is_caught_from_the_exports_of_a_drop_folder(tmp_path, key_and_cert):
    # given a folder source without a tags list, whose export carries T1.level, and a device mapping T1.levl
    data = base_config(tmp_path, key_and_cert)
    data["devices"][0]["quantities"]["tankLevel"]["tag"] = "T1.levl"
    (tmp_path / "drop" / "done").mkdir()
    (tmp_path / "drop" / "done" / "old.csv").write_text(
        "tag,time,value\nT1.level,2026-03-10T00:00,5\nT1.volume,2026-03-10T00:00,5\n"
    )
    path = write_config(tmp_path / "agent.toml", data)
    # when checked
    code, text = _check(path)
    flat = " ".join(text.split())
    # then the unread device tag is a problem, and the export's tag that no device maps is named
    assert code == 2, text
    assert "devices[0]: tag 'T1.levl' is read by no source" in flat
    assert "sources[0] (exports): tag 'T1.level' is read but no device maps it" in flat


def test_an_empty_folder_leaves_tags_unconfirmed_and_says_so(tmp_path, key_and_cert):
    path = write_config(tmp_path / "agent.toml", base_config(tmp_path, key_and_cert))
    code, text = _check(path)
    flat = " ".join(text.split())
    assert code == 0, text
    assert "sources[0] (exports): its tags could not be checked: no export in" in flat
    assert (
        "devices[0]: tag 'T1.level' is not confirmed" in flat
        and "devices[0]: tag 'T1.volume' is not confirmed" in flat
    )


def test_a_sql_source_is_checked_against_its_rows(tmp_path, key_and_cert):
    import sqlite3

    from egsu_core.clock import to_astana, utcnow

    db = tmp_path / "lab.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE lab (tag TEXT, measured_at TEXT, value REAL)")
        now = to_astana(utcnow()).strftime("%Y-%m-%d %H:%M:%S")
        connection.executemany(
            "INSERT INTO lab VALUES (?, ?, 1)", [("T1.level", now), ("T1.volume", now), ("X9", now)]
        )
    data = base_config(tmp_path, key_and_cert)
    data["sources"] = [{"name": "lab", "type": "sql", "url": f"sqlite:///{db}",
                        "query": "SELECT tag, measured_at, value FROM lab WHERE measured_at > :since AND measured_at <= :until"}]  # fmt: skip
    data["devices"][0]["quantities"]["volume"]["tag"] = "T1.vol"
    code, text = _check(write_config(tmp_path / "agent.toml", data))
    flat = " ".join(text.split())
    assert code == 2
    assert "devices[0]: tag 'T1.vol' is read by no source" in flat
    assert (
        "tag 'X9' is read but no device maps it" in flat
        and "tag 'T1.volume' is read but no device maps it" in flat
    )


def test_declared_tags_make_the_check_static_whatever_the_sources(tmp_path, key_and_cert):
    # given a folder that lists its tags and a modbus source: the file alone is enough
    data = base_config(tmp_path, key_and_cert)
    data["sources"][0]["tags"] = ["T1.level"]
    data["sources"].append(
        {"name": "plc", "type": "modbus", "host": "127.0.0.1", "registers": [{"tag": "P9", "address": 0}]}
    )
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path / "agent.toml", data))
    assert error.value.problems == [
        "devices[0]: tag 'T1.volume' is read by no source (no register, node or tags entry names it)"
    ]


def test_an_unknown_tag_in_the_data_is_counted_while_running(tmp_path, key_and_cert):
    from egsu_agent.schedule import ManualClock, local_instant
    from egsu_agent.service import Agent
    from tests.agent.conftest import FakeSystem

    (tmp_path / "drop").mkdir(exist_ok=True)
    (tmp_path / "drop" / "a.csv").write_text(
        "tag,time,value\nT1.levle,2026-03-10T00:00,5\nT1.levle,2026-03-10T00:10,5\n"
    )
    config = load_config(write_config(tmp_path / "agent.toml", base_config(tmp_path, key_and_cert)))
    start = local_instant(config.schedule.first_day, 0)
    agent = Agent(config, clock=ManualClock(start), channel=FakeSystem())
    agent.tick()
    unknown = agent.status()["unknown_tags"]
    agent.close()
    assert [(tag, source, count) for tag, source, _, _, count in unknown] == [("T1.levle", "exports", 2)]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda d: d["sources"][0].pop("type"), "sources[0].type: missing", id="source-without-type"
        ),
        pytest.param(
            lambda d: d["sources"][0].update(registers=[]),
            "sources[0].registers: unknown key; allowed here: done, name, path, pattern, tags, type",
            id="key-of-another-source-type",
        ),
        pytest.param(
            lambda d: d.update(
                sources=[
                    {
                        "name": "p",
                        "type": "modbus",
                        "host": "h",
                        "registers": [{"tag": "T1.level", "address": 0, "word_order": "middle"}],
                    }
                ]
            ),
            "sources[0].registers[0].word_order: 'middle' is not one of 'big' or 'little'",
            id="modbus-word-order",
        ),  # fmt: skip
        pytest.param(
            lambda d: d["schedule"].update(settle_minutes=200),
            "schedule.settle_minutes: 200 is outside 0…110",
            id="settle-within-the-period",
        ),
        pytest.param(
            lambda d: d.update(
                notices={
                    "smtp_host": "h",
                    "from": "a@b.kz",
                    "company": "C",
                    "data_operator": ["o@e.kz"],
                    "authorized_body": ["m@e.kz"],
                    "no_data_after_minutes": 200,
                }
            ),
            "notices.no_data_after_minutes: 200 is outside 10…170",
            id="INT-10-three-hours",
        ),  # fmt: skip
        pytest.param(
            lambda d: d["system"].update(password=None) if False else d["system"].pop("password"),
            "system.password_env: missing; give password or password_env",
            id="no-password",
        ),
        pytest.param(
            lambda d: (
                d["sources"][0].update(type="sql", url="sqlite:///x.db", query="SELECT 1", path=None)
                or d["sources"][0].pop("path")
            ),
            "sources[0].query: must use :marker",
            id="sql-without-marker-or-since",
        ),
    ],
)
def test_more_mistakes_keep_the_file_key_path_problem_form(tmp_path, key_and_cert, change, expected):
    problems = _broken(tmp_path, key_and_cert, change)
    assert any(problem.startswith(expected) for problem in problems), problems
