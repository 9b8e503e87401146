"""One test PKI per session (keys are the slow part), served over loopback HTTP."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from egsu_core.pki.revocation import RevocationChecker
from egsu_core.pki.testca import TestCA
from egsu_core.pki.trust import TrustStore

BASE_URL = "http://pki.test"  # what the certificates name; checkers rewrite it to the live server
BIN = "123456789021"
IIN = "123456789011"


@pytest.fixture(scope="session")
def leaf_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ca(tmp_path_factory) -> TestCA:
    return TestCA.create(tmp_path_factory.mktemp("pki") / "ca", base_url=BASE_URL, root_key_size=2048)


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory) -> TestCA:
    """A CA nobody trusts."""
    return TestCA.create(tmp_path_factory.mktemp("pki") / "other", base_url=BASE_URL, root_key_size=2048)


@pytest.fixture(scope="session")
def _server(ca):
    server = ca.serve()
    yield server
    server.stop()


@pytest.fixture
def server(_server, ca):
    """The CA's OCSP/CRL server, restored to honest behaviour after each test."""
    yield _server
    _server.ocsp_available = True
    _server.ocsp_handler = ca.ocsp_response


@pytest.fixture
def trust(ca) -> TrustStore:
    return TrustStore([ca.root_certificate], [ca.intermediate_certificate])


@pytest.fixture
def checker(server) -> RevocationChecker:
    return RevocationChecker(url_rewrites={BASE_URL: server.url})


@pytest.fixture
def issue(ca, leaf_key):
    """Issue a fresh legal-entity certificate (reusing one key: only the certificate matters here)."""

    def make(purpose: str = "sign", **options):
        options.setdefault("key", leaf_key)
        return ca.issue_subject(BIN, "ТОО «Тест»", "ТЕСТОВ ТЕСТ ТЕСТОВИЧ", IIN, purpose, **options)

    return make
