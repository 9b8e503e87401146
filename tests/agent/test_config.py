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


def test_the_readme_example_is_a_valid_configuration(tmp_path, key_and_cert):
    # given the worked example of agent/README.md, with its machine-specific paths pointed here
    import re
    import tomllib

    from tests.agent.conftest import ROOT

    readme = (ROOT / "agent" / "README.md").read_text("utf-8")
    data = tomllib.loads(re.search(r"```toml\n(.*?)```", readme, re.S).group(1))
    data["system"].pop("password_env")
    data["system"].update(password="x", sign_key=str(key_and_cert[0]), sign_cert=str(key_and_cert[1]))
    (tmp_path / "gas").mkdir()
    next(s for s in data["sources"] if s["type"] == "folder")["path"] = str(tmp_path / "gas")
    # when loaded, then it is valid as written
    config = load_config(write_config(tmp_path / "agent.toml", data))
    assert [d.kind for d in config.devices] == ["1.2", "1.3", "1.4", "1.9"]
    assert {s.type for s in config.sources} == {"modbus", "opcua", "folder", "sql"}
