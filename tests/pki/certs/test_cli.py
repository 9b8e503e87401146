"""`egsu pki …` by hand: verify certificates and CRLs (PEM and DER, --at, --crl) and run the test CA."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from egsu.cli.pki import app
from egsu_core.clock import utcnow
from tests.conftest import shared_path

from .conftest import BASE_URL

runner = CliRunner()
WIDE = {"COLUMNS": "300"}


def _run(*args: str):
    return runner.invoke(app, [str(a) for a in args], env=WIDE)


@pytest.fixture
def published_crl(ca, tmp_path):
    path = tmp_path / "current.crl"
    path.write_bytes(ca.crl())
    return path


@pytest.mark.parametrize("encoding", ["pem", "der"])
def test_verify_a_certificate_against_a_given_crl(issue, ca, published_crl, tmp_path, encoding):
    issued = issue()
    path = tmp_path / f"leaf.{encoding}"
    path.write_bytes(issued.cert_pem if encoding == "pem" else issued.certificate.der)
    result = _run("verify", path, "--trust", ca.root_path, "--intermediate", ca.intermediate_path,
                  "--crl", published_crl)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "VALID as of" in result.output
    assert "revocation" in result.output and "not listed" in result.output


def test_verify_uses_ocsp_when_no_crl_is_given(issue, ca, server, tmp_path):
    path = tmp_path / "leaf.pem"
    path.write_bytes(issue().cert_pem)
    result = _run("verify", path, "--trust", ca.chain_path, "--mirror", f"{BASE_URL}={server.url}")
    assert result.exit_code == 0, result.output
    assert "OCSP of" in result.output


def test_verify_as_of_a_date_before_the_certificate_is_not_current(issue, ca, published_crl, tmp_path):
    issued = issue(not_before=utcnow() + timedelta(days=2), not_after=utcnow() + timedelta(days=30))
    path = tmp_path / "leaf.der"
    path.write_bytes(issued.certificate.der)
    result = _run("verify", path, "--trust", ca.chain_path, "--crl", published_crl)
    assert result.exit_code == 1
    assert "NOT_CURRENT" in result.output
    assert "is not yet valid" in result.output


def test_verify_a_revoked_certificate_fails(issue, ca, tmp_path):
    issued = issue()
    ca.revoke(issued.serial, "keyCompromise", utcnow() - timedelta(minutes=1))
    crl = tmp_path / "crl.der"
    crl.write_bytes(ca.crl())
    cert = tmp_path / "leaf.pem"
    cert.write_bytes(issued.cert_pem)
    result = _run("verify", cert, "--trust", ca.chain_path, "--crl", crl)
    assert result.exit_code == 1
    assert "the certificate is revoked" in result.output


def test_verify_our_crl(ca, tmp_path):
    crl = tmp_path / "crl.der"
    crl.write_bytes(ca.crl())
    assert _run("verify", crl, "--trust", ca.chain_path).exit_code == 0
    later = (utcnow() + timedelta(days=3)).isoformat()
    stale = _run("verify", crl, "--trust", ca.chain_path, "--at", later)
    assert stale.exit_code == 1
    assert "the CRL is stale" in stale.output


@pytest.mark.shared
def test_the_nca_rsa_test_certificate_verifies_against_the_nca_test_ca():
    # the NCA test root is not in ../shared, so the NCA test intermediate is the trust anchor here
    cert = shared_path("shep", "nca-test-certs", "individual_valid_sign_2004_rsa.cer")
    anchor = shared_path("shep", "nca-test-certs", "nca_rsa_test.crt")
    crl = shared_path("shep", "nca-test-certs", "nca_rsa_test.crl")
    inside = _run("verify", cert, "--trust", anchor, "--crl", crl, "--at", "2022-06-01")
    assert inside.exit_code == 0, inside.output
    after = _run("verify", cert, "--trust", anchor, "--crl", crl, "--at", "2023-06-01")
    assert after.exit_code == 1
    assert "expired on 2023-01-18 04:38:50Z" in after.output


@pytest.mark.shared
@pytest.mark.parametrize(("at", "code"), [("2022-06-01", 0), ("2022-12-01", 1)], ids=["current", "stale"])
def test_the_nca_rsa_test_crl_verifies_against_the_nca_test_ca(at, code):
    crl = shared_path("shep", "nca-test-certs", "nca_rsa_test.crl")
    anchor = shared_path("shep", "nca-test-certs", "nca_rsa_test.crt")
    result = _run("verify", crl, "--trust", anchor, "--at", at)
    assert result.exit_code == code, result.output


def test_an_unreadable_file_is_a_usage_error(ca, tmp_path):
    path = tmp_path / "junk.bin"
    path.write_bytes(b"junk")
    result = _run("verify", path, "--trust", ca.chain_path)
    assert result.exit_code == 2
    assert "neither a certificate nor a CRL" in result.output


def test_the_test_ca_commands_end_to_end(tmp_path):
    # given a CA made by the command line
    directory = tmp_path / "ca"
    assert _run("init-test-ca", directory, "--base-url", "http://127.0.0.1:1").exit_code == 0
    issued = _run("issue", directory, "--bin", "123456789021", "--purpose", "auth")
    assert issued.exit_code == 0, issued.output
    serial = issued.output.split()[1]
    # when the certificate is revoked and a CRL published
    assert _run("revoke", directory, serial).exit_code == 0
    assert _run("crl", directory, "--out", tmp_path / "ca.crl").exit_code == 0
    # then verify refuses it, citing the CRL
    result = _run("verify", directory / "issued" / f"{serial}.crt", "--trust", directory / "chain.pem",
                  "--crl", tmp_path / "ca.crl", "--purpose", "auth")  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "the certificate is revoked" in result.output
    assert _run("init-test-ca", directory, "--base-url", "http://x").exit_code == 1
