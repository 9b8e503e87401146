"""The agent signs with the key stores NCA really issues (SIG-03, issue 12 item 5, issue 18 items 5–6).

The real NCA test key stores (GOST 34.310-2004 of a company employee, RSA of a person) are read in
place from ../shared/shep/nca-test-keys (password in its SOURCES.md; the tests skip with a reason
when ../shared is absent). The agent is configured with ``key_store`` and the password from the
environment or a file, builds and signs a period's message (transport and business signatures),
and the server's own ``egsu pki verify-message`` verifies what was posted, as of 2019-01-15: the
kit's certificates were valid 2018-08 … 2019-08 and have expired since. The envelope is also
validated as posted, ``xsi:type="cs:Request"`` included, against the real SyncChannel schema with
our declaration of the ISUN request type.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from lxml import etree
from typer.testing import CliRunner

from egsu.cli.pki import app as pki_app
from egsu_agent.config import ConfigError, load_config
from egsu_agent.schedule import ManualClock, local_instant
from egsu_agent.service import Agent
from egsu_core.isun.schema import SCHEMA_DIR
from egsu_core.shep.envelope import SEND_MESSAGE, XSI_TYPE
from tests.agent.conftest import FakeSystem, base_config, write_config
from tests.conftest import shared_path
from tests.pki.keys.test_pkcs12 import NCA_PASSWORD, STORES
from tests.shep.real_schemas import compile_real_schema

pytestmark = pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")
DAY = date(2026, 3, 10)
START = local_instant(DAY, 0)
KIT = {  # key store kind → (root, issuing CA, the algorithm verify-message names, who signed)
    "gost": ("2018_root_gost.crt", "2018_nca_gost.crt", "GOST 34.310-2004", "BIN123456789021"),
    "rsa": ("2018_root_rsa.crt", "2018_nca_rsa.crt", "RSA-SHA256", "IIN 123456789011"),
}


def _kit(name: str) -> str:
    return str(shared_path("shep", "nca-test-keys", name))


def _store_config(tmp_path, key_and_cert, store: str, **password) -> dict:
    data = base_config(tmp_path, key_and_cert)
    del data["system"]["sign_key"], data["system"]["sign_cert"]
    data["system"].update(key_store=store, sign_business_data=True, **password)
    data["schedule"]["daily"] = False
    return data


@pytest.mark.shared
@pytest.mark.parametrize(("kind", "password_from"), [("gost", "env"), ("rsa", "file")])
def test_a_message_the_agent_signs_with_a_real_nca_key_store_verifies_on_the_server(
    kind, password_from, tmp_path, key_and_cert, monkeypatch
):
    # given the agent configured with a real NCA key store, its password outside the configuration
    if password_from == "env":
        monkeypatch.setenv("OWNER_P12_PASSWORD", NCA_PASSWORD)
        password = {"key_store_password_env": "OWNER_P12_PASSWORD"}
    else:
        (tmp_path / "p12.pass").write_text(NCA_PASSWORD + "\n")
        password = {"key_store_password_file": "p12.pass"}
    data = _store_config(tmp_path, key_and_cert, _kit(STORES[kind]), **password)
    config_file = write_config(tmp_path / "agent.toml", data)
    assert NCA_PASSWORD not in config_file.read_text()
    lines = ["tag,time,value"] + [f"T1.{q},2026-03-10T00:30,{v}" for q, v in (("level", 6.5), ("volume", 7))]
    (tmp_path / "drop" / "a.csv").write_text("\n".join(lines) + "\n")
    system = FakeSystem()
    agent = Agent(load_config(config_file), clock=ManualClock(START), channel=system)
    # when the first period is built and posted
    agent.run(until=START + timedelta(hours=2, minutes=15))
    agent.close()
    (posted,) = [envelope for _, envelope in system.posts]
    # then the envelope is valid as posted, xsi:type included
    operation = etree.fromstring(posted).find(f".//{SEND_MESSAGE}")
    assert operation.find(".//requestData/data").get(XSI_TYPE) == "cs:Request"
    schema = compile_real_schema("syncegg", tmp_path, data_type=SCHEMA_DIR / "isun-cs-request.xsd")
    assert schema.validate(operation), str(schema.error_log.last_error)
    # and the server verifies both signatures and the signer's NCA chain as of a day in its validity
    message = tmp_path / "posted.xml"
    message.write_bytes(posted)
    root, issuer, algorithm, signer = KIT[kind]
    verified = CliRunner().invoke(
        pki_app,
        ["verify-message", str(message), "--trust", _kit(root), "--intermediate", _kit(issuer),
         "--at", "2019-01-15", "--no-revocation"],
        env={"COLUMNS": "300"},
    )  # fmt: skip
    assert verified.exit_code == 0, verified.output
    assert f"transport signature: {algorithm}, verified" in verified.output
    assert f"business data signature: {algorithm}, verified" in verified.output
    assert signer in verified.output and "VALID as of 2019-01-15" in verified.output


@pytest.mark.shared
@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ({"key_store_password": NCA_PASSWORD},
         "system.key_store_password: a key store's password is never written in the configuration"),
        ({}, "system: key_store needs its password from key_store_password_env or key_store_password_file"),
        ({"key_store_password_env": "NO_SUCH_VARIABLE_EGSU"},
         "system: environment variable NO_SUCH_VARIABLE_EGSU is not set"),
        ({"key_store_password_env": "WRONG_P12_PASSWORD"}, "system: key_store GOSTKNCA_"),
    ],
    ids=["in-clear", "no-password", "unset-variable", "wrong-password"],
)  # fmt: skip
def test_check_config_says_what_is_wrong_with_a_key_store(
    password, problem, tmp_path, key_and_cert, monkeypatch
):
    monkeypatch.setenv("WRONG_P12_PASSWORD", "Qwerty13")
    data = _store_config(tmp_path, key_and_cert, _kit(STORES["gost"]), **password)
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path / "agent.toml", data))
    assert problem in str(error.value), str(error.value)
    assert NCA_PASSWORD not in str(error.value) and "Qwerty13" not in str(error.value)
