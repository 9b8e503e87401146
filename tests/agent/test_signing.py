"""Signatures end to end: the payload (business) signature with RSA and GOST keys, and the System's answers.

SIG-03: the records are signed with the owner's key (enveloped XMLDSig on ``data``), the
Body with the transport signature (WS-Security). Keys and certificates come from the
test PKI (egsu_core.pki.testca) as PEM files, RSA-2048, GOST 34.310-2004 and GOST 2015-512;
what the agent posts is verified by egsu_core.pki's verifiers and by the real System (the demo
stand, RSA), and as NCA hands them out: password-protected PKCS#12 key stores (the
configuration's ``key_store``, its password from a file or the environment; the real NCA test
key stores are in test_key_stores.py). App.1 §51: the System signs its answers; the agent believes an answer only
when that signature verifies and its signer is the configured System certificate.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest
from lxml import etree

from egsu_agent.config import load_config
from egsu_agent.delivery import NOT_TRUSTED, AnswerVerifier, Outcome, read_answer
from egsu_agent.schedule import ManualClock, local_instant
from egsu_agent.service import Agent
from egsu_core.clock import utcnow
from egsu_core.isun.schema import SCHEMA_DIR
from egsu_core.pki.certs import load_certificate
from egsu_core.pki.keys import load_identity
from egsu_core.pki.path import CertificatePolicy, validate
from egsu_core.pki.testca import TestCA
from egsu_core.pki.trust import TrustStore
from egsu_core.pki.wsse import sign_transport, verify_transport
from egsu_core.pki.xmldsig import find_business_signature, verify_enveloped
from egsu_core.shep.envelope import SEND_MESSAGE, SyncResponse, build_response
from tests.agent.conftest import base_config, message_id_of, write_config
from tests.agent.proxy import GatewayProxy
from tests.agent.test_end_to_end import system_config, system_readings
from tests.shep.real_schemas import compile_real_schema

DAY = date(2026, 3, 10)
START = local_instant(DAY, 0)
ALGORITHMS = {
    "rsa": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "gost2004": "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311",
    "gost2015": "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512",
}


@pytest.fixture(scope="module", params=sorted(ALGORITHMS))
def pki(request, tmp_path_factory):
    """A test CA of one key type and a subject head's signing key and certificate, as PEM files and a key store."""
    folder = tmp_path_factory.mktemp(request.param)
    ca = TestCA.create(folder / "ca", base_url=f"http://egsu-{request.param}.invalid", key_type=request.param,
                       root_key_size=2048)  # fmt: skip
    issued = ca.issue_subject("123456789012", "DEMO MUNAI LLP", "TESTOV TEST", "800101300123", purpose="sign")
    key, cert = folder / "sign.key", folder / "sign.crt"
    key.write_bytes(issued.key_pem)
    cert.write_bytes(issued.cert_pem)
    store = issued.write_p12("store-password-1", folder / "sign.p12")
    return request.param, ca, key, cert, store


class VerifyingSystem:
    """Stands in for the gateway and the System: verifies both signatures with egsu_core.pki, as they would."""

    def __init__(self, ca: TestCA, schema) -> None:
        self.trust = TrustStore.from_paths([ca.root_path], intermediates=[ca.intermediate_path])
        self.schema = schema
        self.seen: list[dict] = []

    def post(self, envelope: bytes) -> Outcome:
        root = etree.fromstring(envelope)
        assert self.schema.validate(root.find(f".//{SEND_MESSAGE}")), str(self.schema.error_log.last_error)
        transport = verify_transport(root)
        business = verify_enveloped(find_business_signature(transport.body.find(".//requestData/data")))
        for signed in (transport, business):
            cert = load_certificate(signed.certificate_der)
            result = validate(
                cert, trust=self.trust, at=utcnow(), policy=CertificatePolicy(check_revocation=False)
            )
            assert result.valid, result.reason
        self.seen.append(
            {
                "message_id": message_id_of(envelope),
                "transport": transport.signature_method,
                "business": business.signature_method,
                "records": [{f.tag: f.text for f in e} for e in business.element.iterchildren("events")],
            }
        )
        return Outcome("delivered", "SCSS001", "Message has been processed successfully")


@pytest.mark.parametrize("form", ["pem", "pkcs12"])
def test_the_payload_is_signed_end_to_end_with_rsa_and_gost_keys(pki, form, tmp_path, key_and_cert):
    # given an agent whose owner key is RSA or GOST (PEM files, or a PKCS#12 key store whose password
    # is in a file) and business signing on
    kind, ca, key, cert, store = pki
    data = base_config(tmp_path, key_and_cert)
    data["system"].update(sign_business_data=True)
    if form == "pem":
        data["system"].update(sign_key=str(key), sign_cert=str(cert))
    else:
        (tmp_path / "store.pass").write_text("store-password-1\n")
        del data["system"]["sign_key"], data["system"]["sign_cert"]
        data["system"].update(key_store=str(store), key_store_password_file="store.pass")
    data["schedule"]["daily"] = False
    lines = ["tag,time,value"] + [
        f"T1.{q},2026-03-10T00:{m:02d},{5 + m / 10}" for m in (0, 30) for q in ("level", "volume")
    ]
    (tmp_path / "drop" / "a.csv").write_text("\n".join(lines) + "\n")
    schema = compile_real_schema("syncegg", tmp_path, data_type=SCHEMA_DIR / "isun-cs-request.xsd")
    system = VerifyingSystem(ca, schema)
    agent = Agent(
        load_config(write_config(tmp_path / "agent.toml", data)), clock=ManualClock(START), channel=system
    )
    # when the first period is built and sent
    agent.run(until=START + timedelta(hours=2, minutes=15))
    status = agent.status()
    agent.close()
    # then both signatures verified with the key's own algorithm, and the signed records are the period's
    (seen,) = system.seen
    assert seen["transport"] == seen["business"] == ALGORITHMS[kind]
    (record,) = seen["records"]
    assert (record["ID"], record["tankLevel"], record["volume"]) == ("407004", "650.000", "6.500")
    assert status["delivered"] == 1


def test_the_system_verifies_the_business_signature_and_the_agent_verifies_the_answer(stand, tmp_path):
    # given the real System, business signing on, the System's certificate pinned, and...
    var, manifest = stand
    drop = tmp_path / "drop"
    drop.mkdir()
    day = date(2026, 3, 28)
    start = local_instant(day, 0)
    lines = ["tag,time,value"] + [f"T7.level,2026-03-28T00:{m:02d},{300 + m}" for m in (0, 30)]
    (drop / "a.csv").write_text("\n".join(lines) + "\n")
    # ... the owner's key as a PKCS#12 key store, as NCA hands them out (the manifest's sign_p12),
    # its password in a file (agent/README.md walks an engineer through exactly this)
    owner = next(s for s in manifest["subjects"] if s["bin"] == manifest["facilities"][0]["subject_bin"])
    (tmp_path / "p12.pass").write_text(manifest["key_store_password"] + "\n")
    system = {
        **system_config(manifest, tmp_path),
        "sign_business_data": True,
        "system_cert": manifest["system_cert"],
        "key_store": owner["sign_p12"],
        "key_store_password_file": "p12.pass",
    }
    del system["sign_key"], system["sign_cert"]
    data = {
        "agent": {"database": str(tmp_path / "agent.sqlite3")},
        "system": system,
        "schedule": {"first_day": day, "poll_seconds": 3600, "daily": False},
        "sources": [{"name": "exports", "type": "folder", "path": str(drop)}],
        "devices": [{"object_id": "407004", "kind": "1.2", "device": "2", "device_type": 1, "operation_type": 7,
                     "product_type": 1, "quantities": {"tankLevel": {"tag": "T7.level", "unit": "cm"}}}],
    }  # fmt: skip
    agent = Agent(load_config(write_config(tmp_path / "agent.toml", data)), clock=ManualClock(start))
    # when the first period goes out
    agent.run(until=start + timedelta(hours=2, minutes=15))
    (message,) = agent.outbox.all_messages()
    agent.close()
    # then the System verified the owner's business signature, and the agent believed its signed answer
    assert message.state == "delivered" and message.answer_code in ("SCSS001", "Success")
    db = sqlite3.connect(var / "egsu.sqlite3")
    try:
        (verdict,) = db.execute(
            "SELECT signature_verdict FROM journal_journalentry WHERE message_id = ? AND direction = 'IN'",
            (message.message_id,),
        ).fetchone()
    finally:
        db.close()
    assert "business data" in verdict and "RSA-SHA256" in verdict and "not signed" not in verdict, verdict
    assert system_readings(var, "407004")[("2", "tankLevel", "PT2H", start)][0][1] == 1


# ---------------------------------------------------------------- the System's answers


@pytest.fixture(scope="module")
def system_pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("system-pki")
    ca = TestCA.create(folder / "ca", base_url="http://egsu-answers.invalid", root_key_size=2048)
    real = ca.issue_system("EGSU TEST SYSTEM")
    other = ca.issue_system("SOMEONE ELSE")
    (folder / "system.crt").write_bytes(real.cert_pem)
    return ca, folder / "system.crt", real, other


def answer(signer=None) -> bytes:
    body = build_response(
        SyncResponse(
            message_id="a-1",
            correlation_id="m-1",
            response_date=datetime(2026, 3, 10, tzinfo=UTC),
            status_code="SCSS001",
            status_message="Message has been processed successfully",
        )
    )
    if signer is None:
        return body
    identity = load_identity(signer.key_pem, signer.cert_pem)
    return sign_transport(body, private_key=identity.private_key, certificate_der=identity.certificate_der,
                          algorithm_uri=identity.algorithm_uri)  # fmt: skip


def test_only_an_answer_signed_by_the_system_counts(system_pki):
    ca, system_cert, real, other = system_pki
    pinned = AnswerVerifier(system_cert=system_cert)
    chained = AnswerVerifier(trust_roots=ca.chain_path)  # the NCA chain, as the manifest gives it
    assert read_answer(answer(real), verifier=pinned).state == "delivered"
    assert read_answer(answer(real), verifier=chained).state == "delivered"
    unsigned = read_answer(answer(), verifier=pinned)
    assert (unsigned.state, unsigned.code) == ("failed", NOT_TRUSTED) and "does not verify" in unsigned.detail
    impostor = read_answer(answer(other), verifier=pinned)
    assert (impostor.state, impostor.code) == ("failed", NOT_TRUSTED) and "SOMEONE ELSE" in impostor.detail
    tampered = answer(real).replace(b"processed successfully", b"processed successfullY")
    assert read_answer(tampered, verifier=pinned).code == NOT_TRUSTED


def test_a_forged_answer_on_the_wire_does_not_count_and_the_period_is_sent_again(stand, tmp_path):
    # given a gateway that strips the System's signature from its answers for a while
    var, manifest = stand
    proxy = GatewayProxy(manifest["endpoint"]).start()
    strip = {"on": True}

    def forge(body: bytes) -> bytes:
        if not strip["on"]:
            return body
        root = etree.fromstring(body)
        header = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
        if header is not None:
            root.remove(header)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    proxy.rewrite_answer = forge
    drop = tmp_path / "drop"
    drop.mkdir()
    day = date(2026, 3, 29)
    start = local_instant(day, 0)
    (drop / "a.csv").write_text("tag,time,value\nT8.level,2026-03-29T00:30,412\n")
    system = {**system_config(manifest, tmp_path, endpoint=proxy.url), "system_cert": manifest["system_cert"]}
    data = {
        "agent": {"database": str(tmp_path / "agent.sqlite3")},
        "system": system,
        "schedule": {"first_day": day, "poll_seconds": 3600, "daily": False},
        "sources": [{"name": "exports", "type": "folder", "path": str(drop)}],
        "devices": [{"object_id": "407004", "kind": "1.2", "device": "2", "device_type": 1, "operation_type": 7,
                     "product_type": 1, "quantities": {"tankLevel": {"tag": "T8.level", "unit": "cm"}}}],
    }  # fmt: skip
    agent = Agent(load_config(write_config(tmp_path / "agent.toml", data)), clock=ManualClock(start))
    try:
        # when the answer comes unsigned, then signed again on the retry
        agent.run(until=start + timedelta(hours=2, minutes=15))
        first = agent.status()
        strip["on"] = False
        agent.run(until=start + timedelta(hours=2, minutes=45))
        (message,) = agent.outbox.all_messages()
        attempts = agent.outbox.attempts(message.message_id)
    finally:
        agent.close()
        proxy.stop()
    # then the unsigned "success" was not believed, the same message went again, and the System holds it once
    assert first["owed"][0]["why"].startswith(f"failed: {NOT_TRUSTED}")
    assert [(a.outcome, a.code) for a in attempts] == [("failed", NOT_TRUSTED), ("delivered", "SCSS001")]
    assert proxy.forwarded == [message.message_id, message.message_id]
    assert system_readings(var, "407004")[("2", "tankLevel", "PT2H", start)] == [(412, 1)]
    assert utcnow() > start
