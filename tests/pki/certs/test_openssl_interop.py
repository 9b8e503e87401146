"""Interoperability with tools nobody here wrote: the OpenSSL OCSP responder, `openssl ca -gencrl`,
and OpenSSL verifying the CRLs and OCSP answers our test CA makes."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from egsu_core.clock import utcnow
from egsu_core.pki.certs import load_crl
from egsu_core.pki.path import validate_crl
from egsu_core.pki.revocation import GOOD, REVOKED, UNKNOWN, RevocationChecker

from .conftest import BASE_URL

pytestmark = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="the openssl command is not installed"
)


def _openssl_time(moment) -> str:
    return moment.strftime("%y%m%d%H%M%SZ")


def _index_line(issued, revoked_at=None, reason="keyCompromise") -> str:
    cert = issued.certificate
    expiry = _openssl_time(cert.not_after)
    subject = "/" + "/".join(reversed(cert.crypto.subject.rfc4514_string().split(",")))
    if revoked_at is None:
        return f"V\t{expiry}\t\t{cert.serial:X}\tunknown\t{subject}\n"
    return f"R\t{expiry}\t{_openssl_time(revoked_at)},{reason}\t{cert.serial:X}\tunknown\t{subject}\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def openssl_case(ca, leaf_key, tmp_path_factory):
    """A good and a revoked certificate in an OpenSSL index, and one the index does not know."""
    good = ca.issue_subject("123456789021", "ТОО", "A B", "123456789011", key=leaf_key)
    revoked = ca.issue_subject("123456789021", "ТОО", "A B", "123456789011", key=leaf_key)
    stranger = ca.issue_subject("123456789021", "ТОО", "A B", "123456789011", key=leaf_key)
    directory = tmp_path_factory.mktemp("openssl")
    revoked_at = utcnow() - timedelta(hours=1)
    (directory / "index.txt").write_text(_index_line(good) + _index_line(revoked, revoked_at))
    (directory / "index.txt.attr").write_text("unique_subject = no\n")
    return {
        "good": good,
        "revoked": revoked,
        "stranger": stranger,
        "dir": directory,
        "revoked_at": revoked_at,
    }


@pytest.fixture(scope="module")
def openssl_responder(ca, openssl_case):
    """`openssl ocsp` serving the index on a free loopback port; killed after the module."""
    port = _free_port()
    log = openssl_case["dir"] / "ocsp.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["openssl", "ocsp", "-index", str(openssl_case["dir"] / "index.txt"), "-port", str(port),
             "-rsigner", str(ca.directory / "ocsp.crt"), "-rkey", str(ca.directory / "ocsp.key"),
             "-CA", str(ca.intermediate_path), "-nmin", "5"],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # Wait for its banner; a probe connection would wedge the single-threaded responder.
        deadline = time.monotonic() + 10
        while b"waiting for OCSP client connections" not in log.read_bytes():
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"openssl ocsp did not start: {log.read_text(errors='replace')}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(timeout=5)


@pytest.mark.parametrize(("which", "state"), [("good", GOOD), ("revoked", REVOKED), ("stranger", UNKNOWN)])
def test_revocation_answered_by_the_openssl_ocsp_responder(ca, openssl_case, openssl_responder, which, state):
    # given certificates an OpenSSL responder knows from its index (one revoked), and one it does not
    checker = RevocationChecker(url_rewrites={f"{BASE_URL}/ocsp": openssl_responder}, timeout=5)
    # when their status is asked over OCSP
    status = checker.check(openssl_case[which].certificate, ca.intermediate_certificate, at=utcnow())
    # then the responder's signed answer is verified and read
    assert (status.state, status.source) == (state, "ocsp")
    if which == "revoked":
        assert status.reason == "keyCompromise"
        assert status.revoked_at == openssl_case["revoked_at"].replace(microsecond=0)


@pytest.fixture(scope="module")
def openssl_crl(ca, openssl_case):
    """A CRL made by `openssl ca -gencrl` in a CA directory holding our intermediate's key and certificate."""
    directory = openssl_case["dir"]
    (directory / "crlnumber").write_text("1000\n")
    (directory / "ca.cnf").write_text(
        "[ca]\ndefault_ca = test\n[test]\n"
        f"database = {directory / 'index.txt'}\ncrlnumber = {directory / 'crlnumber'}\n"
        f"certificate = {ca.intermediate_path}\nprivate_key = {ca.directory / 'intermediate.key'}\n"
        "default_md = sha256\ndefault_crl_days = 2\ncrl_extensions = crl_ext\n"
        "[crl_ext]\nauthorityKeyIdentifier = keyid:always\n"
    )
    out = directory / "openssl.crl"
    subprocess.run(
        ["openssl", "ca", "-config", str(directory / "ca.cnf"), "-gencrl", "-out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    return load_crl(out.read_bytes())


def test_a_crl_made_by_openssl_ca_verifies(ca, openssl_crl, trust):
    result = validate_crl(openssl_crl, trust=trust, at=utcnow())
    assert [c.name for c in result.failures] == []
    assert openssl_crl.number == 0x1000


@pytest.mark.parametrize(("which", "state"), [("good", GOOD), ("revoked", REVOKED)])
def test_revocation_read_from_an_openssl_crl(ca, openssl_case, openssl_crl, which, state):
    checker = RevocationChecker(crls=[openssl_crl])
    status = checker.check(openssl_case[which].certificate, ca.intermediate_certificate, at=utcnow())
    assert (status.state, status.source) == (state, "crl")


def test_an_openssl_crl_with_a_flipped_byte_is_refused(ca, openssl_case, openssl_crl):
    der = bytearray(openssl_crl.der)
    der[-10] ^= 0x01  # inside the signature
    checker = RevocationChecker(crls=[load_crl(bytes(der))])
    status = checker.check(openssl_case["good"].certificate, ca.intermediate_certificate, at=utcnow())
    assert status.state == UNKNOWN
    assert status.detail.startswith("the CRL signature does not verify")


@pytest.mark.parametrize("delta", [False, True], ids=["full", "delta"])
def test_openssl_verifies_our_crls(ca, tmp_path, delta):
    path = tmp_path / "our.crl"
    path.write_bytes(ca.crl(delta=delta))
    done = subprocess.run(
        ["openssl", "crl", "-inform", "DER", "-in", str(path), "-CAfile", str(ca.chain_path), "-noout"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "verify OK" in done.stderr + done.stdout


def test_openssl_verifies_our_ocsp_answers(ca, openssl_case, tmp_path):
    # given an OCSP request and our responder's answer
    issued = openssl_case["revoked"]
    ca.revoke(issued.serial, "keyCompromise", utcnow() - timedelta(minutes=5))
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(issued.certificate.crypto, ca.intermediate.cert, hashes.SHA256())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    (tmp_path / "resp.der").write_bytes(ca.ocsp_response(request))
    (tmp_path / "leaf.pem").write_bytes(issued.cert_pem)
    # when OpenSSL checks it with the delegated responder certificate given as -verify_other
    done = subprocess.run(
        ["openssl", "ocsp", "-respin", str(tmp_path / "resp.der"), "-CAfile", str(ca.chain_path),
         "-issuer", str(ca.intermediate_path), "-verify_other", str(ca.directory / "ocsp.crt"),
         "-sha256", "-cert", str(tmp_path / "leaf.pem")],
        capture_output=True, text=True,
    )  # fmt: skip
    # then OpenSSL accepts the signature and reads the status we gave
    assert done.returncode == 0, done.stderr
    assert "Response verify OK" in done.stderr + done.stdout
    assert f"{tmp_path / 'leaf.pem'}: revoked" in done.stdout
