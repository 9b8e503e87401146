"""One revocation cache per process (SIG-09): during a real OCSP outage a message pays for the
CRL download once, not every time; the CRLs are kept in the database, so a restart (or a second
server) does not download them again.

The stand's test CA is served over loopback HTTP (``TestCA.serve``) and the certificates' addresses
are mirrored to it (EGSU_PKI_MIRRORS), except OCSP, which is mirrored to a port where the server
was stopped: connection refused, a real outage.
"""

from __future__ import annotations

import dataclasses
import socket

import pytest
from lxml import etree

from egsu.intake import services
from egsu.journal.models import JournalEntry
from egsu.signatures import services as signatures
from egsu.signatures.models import StoredCrl
from egsu_core.pki.sendmessage import signed_send_message
from tests.intake.conftest import DEMO_PASSWORD, device_record, events, new_message_id, recent_two_hour_slot

pytestmark = pytest.mark.django_db(transaction=True)


def _stopped_port() -> int:
    """A loopback port whose server has just stopped: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def outage(stand, settings):
    ca = signatures.test_ca()
    with signatures.pki_lock():
        ca.crl()
        ca.crl(delta=True)
    server = ca.serve()
    base = signatures.TEST_PKI_BASE_URL
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG,
        pki_mirrors=((f"{base}/ocsp", f"http://127.0.0.1:{_stopped_port()}/ocsp"), (base, server.url)),
    )
    yield server
    server.stop()


def _send_one(stand, identity, hours_back: int) -> str:
    facility = next(f for f in stand["facilities"] if f["kind"] == "1.2")
    records = events(
        [
            device_record(
                facility,
                facility["devices"][0],
                period_start=recent_two_hour_slot(hours_back),
                is_daily=False,
            )
        ]
    )
    body = signed_send_message(
        records,
        identity=identity,
        message_id=new_message_id(),
        sender_id=stand["senderId"],
        password=DEMO_PASSWORD,
    )
    root = etree.fromstring(services.receive(body).body)
    return root.findtext(".//errorCode") or root.findtext(".//responseInfo/status/code")


def _crl_downloads(server) -> list[str]:
    return [r for r in server.requests if "/crl/" in r]


def test_during_an_ocsp_outage_the_crl_is_downloaded_once(stand, identity, outage):
    # when five messages arrive while the OCSP responder is down
    codes = [_send_one(stand, identity, hours_back=4 + 2 * n) for n in range(5)]
    # then all are accepted on the CRL, and the CRL and delta CRL were downloaded once each
    assert codes == ["SCSS001"] * 5
    assert sorted(_crl_downloads(outage)) == ["GET /crl/intermediate-delta.crl", "GET /crl/intermediate.crl"]
    verdicts = JournalEntry.objects.filter(direction="IN", kind="message").values_list(
        "signature_verdict", flat=True
    )
    assert all("revocation good by crl+delta" in v for v in verdicts)
    # and both are kept in the database for other processes
    assert set(StoredCrl.objects.values_list("delta", flat=True)) == {False, True}


def test_after_a_restart_the_crl_comes_from_the_database(stand, identity, outage):
    assert _send_one(stand, identity, hours_back=4) == "SCSS001"
    downloaded = len(_crl_downloads(outage))
    # when the process forgets everything it cached (a restart, or a second server)
    signatures.revocation_cache.cache_clear()
    assert _send_one(stand, identity, hours_back=6) == "SCSS001"
    # then nothing was downloaded again
    assert len(_crl_downloads(outage)) == downloaded == 2


def test_a_crl_past_its_next_update_is_downloaded_again(stand, identity, outage):
    from datetime import timedelta

    from egsu_core.clock import utcnow

    ca = signatures.test_ca()
    with signatures.pki_lock():
        ca.crl(this_update=utcnow() - timedelta(minutes=10), next_update=utcnow() + timedelta(seconds=1))
    assert _send_one(stand, identity, hours_back=4) == "SCSS001"
    with signatures.pki_lock():
        ca.crl()  # the CA publishes the next one
    import time

    time.sleep(1.2)
    assert _send_one(stand, identity, hours_back=6) == "SCSS001"
    assert _crl_downloads(outage).count("GET /crl/intermediate.crl") == 2
