"""Per-sender limits at the gateway (egsu.intake.limits): brute force on SOAP passwords (SCE002)
and repeated signature failures, through egsu.intake.services.receive."""

from __future__ import annotations

import pytest
from lxml import etree

from egsu.intake import services
from egsu.registry import services as registry
from egsu_core.pki.sendmessage import signed_send_message
from tests.intake.conftest import DEMO_PASSWORD, device_record, events, new_message_id, recent_two_hour_slot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def records(stand):
    facility = next(f for f in stand["facilities"] if f["kind"] == "1.2")
    return events(
        [device_record(facility, facility["devices"][0], period_start=recent_two_hour_slot(), is_daily=False)]
    )


def _send(stand, records, identity, password, body_edit=None) -> tuple[str, str]:
    body = signed_send_message(
        records,
        identity=identity,
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=password,
    )
    if body_edit is not None:
        body = body_edit(body)
    root = etree.fromstring(services.receive(body).body)
    code = root.findtext(".//errorCode") or root.findtext(".//responseInfo/status/code")
    return code, root.findtext(".//errorMessage") or ""


def test_five_wrong_passwords_lock_the_sender_but_not_its_known_password(stand, records, identity):
    # given the real system has been verified once in this process
    assert _send(stand, records, identity, DEMO_PASSWORD)[0] == "SCSS001"
    # when someone tries five wrong passwords
    for attempt in range(5):
        assert _send(stand, records, identity, f"guess-{attempt}")[0] == "SCE002"
    # then even a new guess is refused without being tried, with the time the lock ends
    code, message = _send(stand, records, identity, "guess-6")
    assert code == "SCE002" and "too many failed attempts" in message
    # while the real system's password, already proven here, still goes through
    assert _send(stand, records, identity, DEMO_PASSWORD)[0] == "SCSS001"


def test_a_locked_sender_whose_password_this_process_never_saw_is_refused(stand, records, identity):
    for attempt in range(5):
        _send(stand, records, identity, f"guess-{attempt}")
    registry.clear_authentication_cache()  # another worker, or after a restart
    code, message = _send(stand, records, identity, DEMO_PASSWORD)
    assert code == "SCE002" and "too many failed attempts" in message


def test_repeated_signature_failures_put_the_password_first(stand, records, identity):
    def tamper(body: bytes) -> bytes:
        return body.replace(b"<volume>", b"<volume>9", 1)

    # given ten messages whose signatures did not verify
    for _ in range(10):
        assert _send(stand, records, identity, DEMO_PASSWORD, tamper)[0] == "SCE006"
    # when a forger sends one more with a wrong password
    code, _ = _send(stand, records, identity, "not-the-password", tamper)
    # then the password is checked before the signature: SCE002, counted towards the lock
    assert code == "SCE002"
    # and the real system, with its password and a good signature, is served and resets the counters
    assert _send(stand, records, identity, DEMO_PASSWORD)[0] == "SCSS001"
    assert _send(stand, records, identity, "not-the-password", tamper)[0] == "SCE006"
