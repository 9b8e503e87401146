"""Signing material for the demo stand: each demo subject gets a test signing certificate.

The manifest (var/demo/stand.json) then names, per subject, `sign_key` and `sign_cert`
(PEM paths; the key unencrypted, for the test stand only), and at the top `trust_roots`
(the test CA chain) and `system_cert` (the System's signing certificate).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from egsu.clock import utcnow
from egsu.pki.certs import load_certificate
from egsu.signatures.services import TEST_PKI_BASE_URL, _test_system_identity, pki_lock, test_ca


def subject_signing_files(bin_: str, name: str) -> tuple[Path, Path]:
    """(key, certificate) of a demo subject's head, issued once and reissued when it expires."""
    ca = test_ca()
    if ca is None:
        raise RuntimeError("the stand has trust roots configured: demo certificates come from the real NCA")
    directory = settings.CONFIG.test_pki_dir / "subjects"
    key_path, cert_path = directory / f"{bin_}-sign.key", directory / f"{bin_}-sign.crt"
    with pki_lock():
        if cert_path.exists() and load_certificate(cert_path.read_bytes()).valid_at(utcnow()):
            return key_path, cert_path
        directory.mkdir(parents=True, exist_ok=True)
        issued = ca.issue_subject(bin_, name, "TESTOV TEST TESTOVICH", "800101300123", purpose="sign")
        key_path.write_bytes(issued.key_pem)
        key_path.chmod(0o600)
        cert_path.write_bytes(issued.cert_pem)
    return key_path, cert_path


def equip(manifest: dict, *, base_url: str) -> dict:
    """Add the signing material of the test PKI to a demo manifest."""
    ca = test_ca()
    if ca is None:
        return manifest
    for subject in manifest["subjects"]:
        key_path, cert_path = subject_signing_files(subject["bin"], subject["name"])
        subject["sign_key"], subject["sign_cert"] = str(key_path), str(cert_path)
    _, system_cert = _test_system_identity()
    return {
        **manifest,
        "trust_roots": str(ca.chain_path),
        "system_cert": str(system_cert),
        "test_pki": {
            "base_url_in_certificates": TEST_PKI_BASE_URL,
            "served_at": f"{base_url}/test-pki",
            "mirror": f"{TEST_PKI_BASE_URL}={base_url}/test-pki",
        },
    }
