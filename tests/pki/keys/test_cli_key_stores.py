"""`egsu sign --p12` and `egsu pki verify-message` with the REAL NCA test key stores (read in place from
../shared/shep/nca-test-keys; password in its SOURCES.md), and `egsu pki init-test-ca --key-type`.

The key stores' certificates expired in 2019: each SendMessage is verified "as of" 2019-01-15, inside
their validity (2018-08-22/23 … 2019-08-22/23), against the 2018 NCA test CAs of the same kit; the
kit has no CRLs of that time, so revocation is left out (--no-revocation) and says so.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from egsu.cli.app import app as egsu_app
from egsu.cli.pki import app as pki_app
from tests.conftest import shared_path
from tests.pki.keys.test_pkcs12 import NCA_PASSWORD, STORES

pytestmark = pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")
runner = CliRunner()
WIDE = {"COLUMNS": "300"}
PAYLOAD = b"<data><events><id>407001</id><volume>1.5</volume></events></data>"
CHAINS = {
    "gost": ("2018_root_gost.crt", "2018_nca_gost.crt"),
    "rsa": ("2018_root_rsa.crt", "2018_nca_rsa.crt"),
}


def _kit(name: str) -> str:
    return str(shared_path("shep", "nca-test-keys", name))


@pytest.mark.shared
@pytest.mark.parametrize(
    ("kind", "chain", "purpose", "algorithm"),
    [
        ("gost", "gost", "sign", "GOST 34.310-2004"),
        ("rsa", "rsa", "sign", "RSA-SHA256"),
        ("auth", "rsa", "auth", "RSA-SHA256"),
    ],
)
def test_a_message_signed_with_each_nca_key_store_verifies_as_of_its_validity(
    tmp_path, kind, chain, purpose, algorithm
):
    payload = tmp_path / "payload.xml"
    payload.write_bytes(PAYLOAD)
    password_file = tmp_path / "store-password"
    password_file.write_text(NCA_PASSWORD + "\n")
    signed = tmp_path / "signed.xml"
    # the key store's password comes from a file; the sender's password from the environment
    result = runner.invoke(
        egsu_app,
        ["sign", str(payload), "--p12", _kit(STORES[kind]), "--p12-password-file", str(password_file),
         "--sender-id", "demo-isun", "--out", str(signed)],
        env={**WIDE, "EGSU_SENDER_PASSWORD": "sender-password-1"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert NCA_PASSWORD not in result.output
    root, intermediate = CHAINS[chain]
    verified = runner.invoke(
        pki_app,
        ["verify-message", str(signed), "--trust", _kit(root), "--intermediate", _kit(intermediate),
         "--at", "2019-01-15", "--purpose", purpose, "--no-revocation"],
        env=WIDE,
    )  # fmt: skip
    assert verified.exit_code == 0, verified.output
    assert f"transport signature: {algorithm}, verified" in verified.output
    assert "signer: " in verified.output and "IIN 123456789011" in verified.output
    assert "chain: " in verified.output and "VALID as of 2019-01-15" in verified.output
    # and as of today the same message is refused: the certificate has expired
    today = runner.invoke(
        pki_app,
        ["verify-message", str(signed), "--trust", _kit(root), "--intermediate", _kit(intermediate), "--no-revocation",
         "--purpose", purpose],
        env=WIDE,
    )  # fmt: skip
    assert today.exit_code == 1 and "expired" in today.output


@pytest.mark.shared
def test_the_key_store_password_can_come_from_the_environment_or_a_prompt(tmp_path):
    payload = tmp_path / "payload.xml"
    payload.write_bytes(PAYLOAD)
    base = ["sign", str(payload), "--p12", _kit(STORES["rsa"]), "--sender-id", "demo-isun"]
    by_env = runner.invoke(
        egsu_app, base, env={"EGSU_P12_PASSWORD": NCA_PASSWORD, "EGSU_SENDER_PASSWORD": "x"}
    )
    assert by_env.exit_code == 0 and b"Security" in by_env.stdout_bytes
    prompted = runner.invoke(egsu_app, base, input=NCA_PASSWORD + "\n", env={"EGSU_SENDER_PASSWORD": "x"})
    assert prompted.exit_code == 0 and "Key store password" in prompted.output
    wrong = runner.invoke(egsu_app, base, env={"EGSU_P12_PASSWORD": "nope", "EGSU_SENDER_PASSWORD": "x"})
    assert wrong.exit_code == 2 and "wrong password" in wrong.output


def test_there_is_no_command_line_option_for_the_key_store_password():
    assert "--p12-password " not in runner.invoke(egsu_app, ["sign", "--help"], env=WIDE).output


@pytest.mark.parametrize("key_type", ["gost2004", "gost2015"])
def test_init_test_ca_makes_gost_authorities_and_key_stores(tmp_path, key_type):
    created = runner.invoke(
        pki_app,
        ["init-test-ca", str(tmp_path / "ca"), "--base-url", "http://pki.test", "--key-type", key_type],
        env=WIDE,
    )
    assert created.exit_code == 0, created.output
    (tmp_path / "pw").write_text("store-password-1")
    issued = runner.invoke(
        pki_app, ["issue", str(tmp_path / "ca"), "--bin", "123456789021", "--p12-password-file", str(tmp_path / "pw")],
        env=WIDE,
    )  # fmt: skip
    assert issued.exit_code == 0, issued.output
    from egsu_core.pki.gost import gost3410
    from egsu_core.pki.keys import load_identity

    store = next((tmp_path / "ca" / "issued").glob("*.p12"))
    identity = load_identity(store.read_bytes(), password="store-password-1")
    assert isinstance(identity.private_key, gost3410.GostPrivateKey)
    assert len(identity.chain_der) == 2
    assert (
        runner.invoke(
            pki_app, ["init-test-ca", str(tmp_path / "x"), "--base-url", "http://a", "--key-type", "dsa"]
        ).exit_code
        == 2
    )
