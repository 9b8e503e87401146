"""The demo stand's signing material (`make demo`, var/demo/stand.json): RSA and GOST subjects, each
with signing and authentication certificates and PKCS#12 key stores, usable at the gateway."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from egsu.intake import services
from egsu.journal.models import JournalEntry
from egsu.registry.models import ConnectedSystem, Subject
from egsu_core.pki.certs import load_certificate
from egsu_core.pki.gost import gost3410
from egsu_core.pki.keys import load_identity
from egsu_core.pki.sendmessage import signed_send_message
from tests.intake.conftest import DEMO_PASSWORD, device_record, events, new_message_id, recent_two_hour_slot

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_demo_subject_has_sign_and_auth_key_stores(stand):
    kinds = [subject["key_type"] for subject in stand["subjects"]]
    assert kinds[0] == "rsa" and set(kinds[1:]) == {"gost2004"}
    for subject in stand["subjects"]:
        for purpose, usage in (("sign", "nonRepudiation"), ("auth", "keyEncipherment")):
            identity = load_identity(
                Path(subject[f"{purpose}_p12"]).read_bytes(), password=stand["key_store_password"]
            )
            cert = load_certificate(identity.certificate_der)
            assert cert.subject_bin == subject["bin"] and usage in cert.key_usage
            assert (
                identity.certificate_der
                == load_certificate(Path(subject[f"{purpose}_cert"]).read_bytes()).der
            )
            assert isinstance(identity.private_key, gost3410.GostPrivateKey) == (
                subject["key_type"] == "gost2004"
            )
    assert b"CERTIFICATE" in Path(stand["trust_roots_gost"]).read_bytes()


def test_a_gost_subject_signs_with_its_key_store_and_is_accepted(stand):
    # given the demo system sending for a GOST subject
    facility = stand["foreignFacilities"][0]
    owner = next(s for s in stand["subjects"] if s["bin"] == facility["subject_bin"])
    assert owner["key_type"] == "gost2004"
    ConnectedSystem.objects.update(subject=Subject.objects.get(bin=owner["bin"]))
    identity = load_identity(Path(owner["sign_p12"]).read_bytes(), password=stand["key_store_password"])
    records = events(
        [device_record(facility, facility["devices"][0], period_start=recent_two_hour_slot(), is_daily=False)]
    )
    body = signed_send_message(
        records,
        identity=identity,
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
    )
    root = etree.fromstring(services.receive(body).body)
    assert root.findtext(".//responseInfo/status/code") == "SCSS001", root.findtext(".//errorMessage")
    verdict = JournalEntry.objects.get(direction="IN").signature_verdict
    assert verdict.startswith("transport: valid GOST 34.310-2004") and "revocation good by ocsp" in verdict
