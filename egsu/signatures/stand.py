"""Signing material for the demo stand: each demo subject gets test signing AND authentication
certificates, RSA for the subject that owns what the demo system sends, GOST 34.310-2004 for the others
(as NCA issues both kinds).

The manifest (var/demo/stand.json) then names, per subject: ``key_type``; ``sign_key``/``sign_cert``
(PEM, the key unencrypted, test stand only) and ``sign_p12`` (the same as a PKCS#12 key store, as NCA
hands them out); ``auth_key``/``auth_cert``/``auth_p12`` likewise for authentication (SIG-11). At the
top: ``key_store_password`` (of every demo key store), ``trust_roots`` (the RSA test CA chain),
``trust_roots_gost`` (the GOST one) and ``system_cert`` (the System's signing certificate).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from egsu.signatures.services import (
    TEST_CA_KEY_TYPES,
    TEST_PKI_BASE_URL,
    _test_system_identity,
    pki_lock,
    test_ca,
)
from egsu_core.clock import utcnow
from egsu_core.pki.certs import load_certificate

DEMO_KEY_STORE_PASSWORD = "demo-key-store-1"  # test stand only: printed in the manifest on purpose


def subject_files(
    bin_: str, name: str, *, purpose: str = "sign", key_type: str = "rsa"
) -> tuple[Path, Path, Path]:
    """(key, certificate, key store) of a demo subject's head, issued once and reissued when it expires."""
    ca = test_ca(key_type)
    if ca is None:
        raise RuntimeError("the stand has trust roots configured: demo certificates come from the real NCA")
    directory = settings.CONFIG.test_pki_dir / "subjects"
    stem = f"{bin_}-{purpose}" if key_type == "rsa" else f"{bin_}-{purpose}-{key_type}"
    key_path, cert_path, p12_path = (directory / f"{stem}{suffix}" for suffix in (".key", ".crt", ".p12"))
    with pki_lock():
        if (
            p12_path.exists()
            and cert_path.exists()
            and load_certificate(cert_path.read_bytes()).valid_at(utcnow())
        ):
            return key_path, cert_path, p12_path
        directory.mkdir(parents=True, exist_ok=True)
        issued = ca.issue_subject(bin_, name, "TESTOV TEST TESTOVICH", "800101300123", purpose=purpose)
        key_path.write_bytes(issued.key_pem)
        key_path.chmod(0o600)
        cert_path.write_bytes(issued.cert_pem)
        issued.write_p12(DEMO_KEY_STORE_PASSWORD, p12_path)
    return key_path, cert_path, p12_path


def subject_signing_files(bin_: str, name: str) -> tuple[Path, Path]:
    """(key, certificate) of a demo subject's RSA signing certificate."""
    key_path, cert_path, _ = subject_files(bin_, name)
    return key_path, cert_path


def equip(manifest: dict, *, base_url: str) -> dict:
    """Add the signing material of the test PKI to a demo manifest."""
    ca = test_ca()
    if ca is None:
        return manifest
    for index, subject in enumerate(manifest["subjects"]):
        key_type = "rsa" if index == 0 else "gost2004"
        subject["key_type"] = key_type
        for purpose in ("sign", "auth"):
            key_path, cert_path, p12_path = subject_files(
                subject["bin"], subject["name"], purpose=purpose, key_type=key_type
            )
            subject[f"{purpose}_key"], subject[f"{purpose}_cert"] = str(key_path), str(cert_path)
            subject[f"{purpose}_p12"] = str(p12_path)
    _, system_cert = _test_system_identity()
    gost = test_ca("gost2004")
    mirrors = [f"{TEST_PKI_BASE_URL}={base_url}/test-pki"]
    mirrors += [
        f"{base}={base_url}/test-pki/{kind}" for kind, base in TEST_CA_KEY_TYPES.items() if kind != "rsa"
    ]
    return {
        **manifest,
        "key_store_password": DEMO_KEY_STORE_PASSWORD,
        "trust_roots": str(ca.chain_path),
        "trust_roots_gost": str(gost.chain_path),
        "system_cert": str(system_cert),
        "test_pki": {
            "base_url_in_certificates": TEST_PKI_BASE_URL,
            "served_at": f"{base_url}/test-pki",
            "mirror": mirrors[0],
            "mirrors": mirrors,
        },
    }
