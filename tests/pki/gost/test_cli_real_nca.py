"""`egsu pki verify` on the REAL NCA GOST test files, read in place from ../shared (issue 4, SIG-05..SIG-10).

Dates come from the files themselves (openssl):
* ceo_valid_sign_2004_gost.cer: 2022-01-18 04:45:35Z … 2023-01-18 04:45:35Z, issued by ҰКО 3.0 (GOST TEST);
* nca_gost_test.crl (by nca_gost_test.crt): thisUpdate 2022-03-29 04:30:07Z, nextUpdate 2022-09-25 04:30:07Z;
* nca_gost2022_test.crl (by nca_gost2015_test.cer): 2022-07-27 11:26:06Z … 2023-01-23 11:26:06Z.
A bare `--at` date is noon in Astana (UTC+6 in 2022). The NCA test roots are not in ../shared, so
the issuing CA certificate is given as the trust anchor (the path code accepts a non-self-signed anchor).
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from egsu.cli.pki import app
from tests.conftest import shared_path

pytestmark = [pytest.mark.shared, pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")]

runner = CliRunner()
WIDE = {"COLUMNS": "300"}
CERTIFICATE_CHECKS = [
    "validity",
    "chain",
    "issuer signature",
    "signature algorithm",
    "CA certificates",
    "chain validity",
    "revocation",
    "key usage",
    "policy",
    "extended key usage",
]
CRL_CHECKS = ["issuer", "CRL signature", "chain", "issuer signature", "chain validity", "validity"]


def _nca(name: str) -> str:
    return str(shared_path("shep", "nca-test-certs", name))


def _run(*args: str):
    return runner.invoke(app, ["verify", *args], env=WIDE)


def _verdicts(output: str) -> dict[str, str]:
    """The check → verdict column of the table the command prints."""
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) == 5 and cells[1] and cells[1] != "check":
            rows[cells[1]] = cells[2]
    return rows


def test_the_gost_2004_ceo_certificate_is_valid_with_its_crl():
    # given the real CEO certificate, its issuing CA as anchor and the CA's CRL, as of 1 June 2022
    result = _run(
        _nca("ceo_valid_sign_2004_gost.cer"),
        "--trust",
        _nca("nca_gost_test.crt"),
        "--at",
        "2022-06-01",
        "--crl",
        _nca("nca_gost_test.crl"),
    )

    # then every check is OK and the command exits 0
    assert result.exit_code == 0, result.output
    assert _verdicts(result.output) == dict.fromkeys(CERTIFICATE_CHECKS, "ok")
    assert "VALID as of 2022-06-01T06:00:00+00:00" in result.output
    assert "CRL 7 of 2022-03-29 04:30:07Z: not listed" in result.output
    assert "ҰКО 3.0 (GOST TEST)" in result.output


@pytest.mark.parametrize(
    ("at", "words", "verdict"),
    [
        # after it the CRL given is stale too, so revocation is undecided as well: INVALID, not NOT_CURRENT
        pytest.param("2023-06-01", "expired on 2023-01-18 04:45:35Z", "INVALID", id="after-its-validity"),
        pytest.param(
            "2021-06-01", "its validity begins 2022-01-18 04:45:35Z", "NOT_CURRENT", id="before-its-validity"
        ),
    ],
)
def test_the_gost_2004_ceo_certificate_outside_its_validity_fails(at, words, verdict):
    result = _run(
        _nca("ceo_valid_sign_2004_gost.cer"),
        "--trust",
        _nca("nca_gost_test.crt"),
        "--at",
        at,
        "--crl",
        _nca("nca_gost_test.crl"),
    )

    assert result.exit_code == 1, result.output
    assert _verdicts(result.output)["validity"] == "not current"
    assert words in result.output
    assert result.output.splitlines()[-1] == f"{verdict} as of {at}T06:00:00+00:00"


def test_the_gost_2004_ceo_certificate_under_another_anchor_fails():
    # given the GOST 2015 CA as the only anchor; then no chain is found
    result = _run(
        _nca("ceo_valid_sign_2004_gost.cer"),
        "--trust",
        _nca("nca_gost2015_test.cer"),
        "--at",
        "2022-06-01",
        "--crl",
        _nca("nca_gost_test.crl"),
    )

    assert result.exit_code == 1, result.output
    assert _verdicts(result.output)["chain"] != "ok"


@pytest.mark.parametrize(
    ("crl", "anchor", "at", "issuer"),
    [
        pytest.param(
            "nca_gost_test.crl", "nca_gost_test.crt", "2022-06-01", "ҰКО 3.0 (GOST TEST)", id="gost2004"
        ),
        pytest.param(
            "nca_gost2022_test.crl",
            "nca_gost2015_test.cer",
            "2022-10-01",
            "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022",
            id="gost2015-512",
        ),
    ],
)
def test_real_gost_crls_are_valid_inside_their_window(crl, anchor, at, issuer):
    result = _run(_nca(crl), "--trust", _nca(anchor), "--at", at)

    assert result.exit_code == 0, result.output
    assert _verdicts(result.output) == dict.fromkeys(CRL_CHECKS, "ok")
    assert f"issued by '{issuer}'" in result.output
    assert f"VALID as of {at}T06:00:00+00:00" in result.output


@pytest.mark.parametrize(
    ("crl", "anchor", "at", "words"),
    [
        pytest.param("nca_gost_test.crl", "nca_gost_test.crt", "2022-12-01", "stale", id="gost2004-stale"),
        pytest.param(
            "nca_gost_test.crl", "nca_gost_test.crt", "2022-03-01", "not yet issued", id="gost2004-early"
        ),
        pytest.param(
            "nca_gost2022_test.crl", "nca_gost2015_test.cer", "2023-06-01", "stale", id="gost2015-stale"
        ),
        pytest.param(
            "nca_gost2022_test.crl",
            "nca_gost2015_test.cer",
            "2022-07-01",
            "not yet issued",
            id="gost2015-early",
        ),
    ],
)
def test_real_gost_crls_outside_their_window_fail(crl, anchor, at, words):
    result = _run(_nca(crl), "--trust", _nca(anchor), "--at", at)

    assert result.exit_code == 1, result.output
    assert _verdicts(result.output)["validity"] == "not current"
    assert words in result.output


def test_a_real_gost_crl_under_the_wrong_anchor_fails():
    # given the GOST 2015 CRL with the GOST 2004 CA as anchor; then its issuer is unknown
    result = _run(_nca("nca_gost2022_test.crl"), "--trust", _nca("nca_gost_test.crt"), "--at", "2022-10-01")

    assert result.exit_code == 1, result.output
    assert _verdicts(result.output)["issuer"] != "ok"
