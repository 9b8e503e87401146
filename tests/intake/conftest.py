"""A live server with the demo registry, and clients that talk to it over real HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from egsu.isun.samples import records_element, sample_record

DEMO_PASSWORD = "demo-password-for-tests-1"


@pytest.fixture
def stand(transactional_db):
    """The demo registry (the same one `make demo` loads) with a known password."""
    from egsu.registry.demo import load_demo_registry

    return load_demo_registry(password=DEMO_PASSWORD)


@pytest.fixture
def endpoint(live_server) -> str:
    return f"{live_server.url}/shep/SyncChannel"


@pytest.fixture
def zeep_client(endpoint, stand):
    from egsu.shep.zeep_client import SyncChannelClient

    return SyncChannelClient(f"{endpoint}?wsdl", timeout=30)


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
    from egsu.clock import to_astana

    while to_astana(now).hour % 2:
        now -= timedelta(hours=1)
    return now
