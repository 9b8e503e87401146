"""A live server with the demo registry, and clients that talk to it over real HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from egsu_core.isun.samples import records_element, sample_record

DEMO_PASSWORD = "demo-password-for-tests-1"


@pytest.fixture
def stand(transactional_db):
    """The demo registry and signing material (what `make demo` sets up), with a known password."""
    from egsu.registry.demo import load_demo_registry
    from egsu.signatures.stand import equip

    return equip(load_demo_registry(password=DEMO_PASSWORD), base_url="http://testserver")


@pytest.fixture
def identity(stand):
    """The signing key and certificate of the subject that owns the sender's facilities."""
    return subject_identity(stand, stand["facilities"][0]["subject_bin"])


def subject_identity(stand, bin_: str):
    from pathlib import Path

    from egsu_core.pki.keys import load_identity

    subject = next(s for s in stand["subjects"] if s["bin"] == bin_)
    return load_identity(Path(subject["sign_key"]).read_bytes(), Path(subject["sign_cert"]).read_bytes())


def signed(body: bytes, identity) -> bytes:
    """What Kalkan's SignWSSE does for the real clients: a WS-Security signature on the Body."""
    from egsu_core.pki.wsse import sign_transport

    return sign_transport(
        body,
        private_key=identity.private_key,
        certificate_der=identity.certificate_der,
        algorithm_uri=identity.algorithm_uri,
    )


@pytest.fixture
def endpoint(live_server) -> str:
    return f"{live_server.url}/shep/SyncChannel"


@pytest.fixture
def zeep_client(endpoint, stand, identity):
    from egsu_core.shep.zeep_client import SyncChannelClient

    return SyncChannelClient(f"{endpoint}?wsdl", timeout=30, identity=identity)


def new_message_id() -> str:
    return str(uuid.uuid4())


def device_record(
    facility: dict, device: dict, *, period_start: datetime, is_daily: bool, values=None
) -> dict:
    """A valid record for one of the manifest's devices, with the field names of its table."""
    return sample_record(
        facility["kind"],
        facility["id"],
        device["deviceNameId"],
        period_start=period_start,
        is_daily=is_daily,
        device_type_id=device["deviceTypeId"],
        operation_type_id=device["operationTypeId"][0],
        product_type_id=device["productTypeId"],
        pipeline_id=device.get("pipelineId"),
        values=values,
    )


def events(records: list[dict]):
    """The children of data: one <events> per record, as the real clients send them."""
    return list(records_element(records))


def recent_two_hour_slot(hours_back: int = 4) -> datetime:
    """An even Astana hour in the past (the 2-hour grid is the same in UTC+5 and UTC+6)."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_back)
    from egsu_core.clock import to_astana

    while to_astana(now).hour % 2:
        now -= timedelta(hours=1)
    return now
