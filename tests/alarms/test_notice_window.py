"""A maintenance notice filed by the subject's agent (POST /api/v1/notices) suppresses the
missing-data alarm for exactly its window (INT-09..12, INT-10); the data stays owed afterwards."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from egsu.alarms import sources
from egsu.alarms.models import Alarm
from egsu.monitoring.models import Arrival
from egsu.points.models import MeteringPoint
from tests.registry.factories import make_system

W0 = datetime(2025, 6, 1, 19, 0, tzinfo=UTC)  # 2025-06-02 00:00 Astana: a two-hour slot boundary
W1 = W0 + timedelta(hours=6)  # three two-hour slots: W0, W0+2h, W0+4h


def arrived(point, *starts):
    for start in starts:
        Arrival.objects.create(
            object_id=point.object_code, device_id=point.store_device_id, interval="PT2H", period_start=start,
            day=start.date(), subject=point.subject, point=point, due_at=start + timedelta(hours=2),
            first_received_at=start + timedelta(hours=2), last_received_at=start + timedelta(hours=2),
            accepted_at=start + timedelta(hours=2), on_time=True, status="accepted",
        )  # fmt: skip


def file_notice(client, starts, ends):
    auth = "Basic " + base64.b64encode(b"OWN-SYS:s3cret-Password").decode()
    answer = client.post(
        "/api/v1/notices", {"kind": "maintenance", "starts_at": starts.isoformat(), "ends_at": ends.isoformat()},
        content_type="application/json", headers={"Authorization": auth},
    )  # fmt: skip
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def missing_alarm_keys(now):
    sources.evaluate_missing_data(now)
    return list(Alarm.objects.filter(source=sources.MISSING_DATA, state="open").values_list("key", flat=True))


@pytest.mark.django_db
def test_a_notice_suppresses_the_missing_data_alarm_for_exactly_its_window(world, client, settings):
    settings.EGSU_MISSING_DATA_ALARM_MINUTES = 5
    settings.EGSU_ARRIVAL_GRACE_MINUTES = 0
    MeteringPoint.objects.exclude(device=world.own_device).update(owes=False)
    point = MeteringPoint.objects.get(device=world.own_device)
    MeteringPoint.objects.filter(pk=point.pk).update(owes=True, owes_from=W0.date() - timedelta(days=2),
                                                     owed_intervals="PT2H")  # fmt: skip
    before = [W0 - timedelta(hours=2 * n) for n in range(1, 20)]
    arrived(point, *before)  # everything before the window arrived; nothing inside it
    make_system("OWN-SYS", subject=world.own)
    inside = W1 - timedelta(minutes=1)  # the window's first two slots are overdue by now
    # without a notice: an alarm
    assert missing_alarm_keys(inside) == [f"point:{point.pk}"]
    Alarm.objects.all().delete()
    # a notice one slot shorter than the silence: still an alarm for the slot it does not cover
    shorter = file_notice(client, W0 + timedelta(hours=2), W1)
    assert missing_alarm_keys(inside) == [f"point:{point.pk}"]
    assert Alarm.objects.get().evidence["missing_slots"] == 1
    # the exact window: no alarm inside it
    from egsu.alarms.models import Notice

    Notice.objects.filter(pk=shorter).update(withdrawn_at=inside)
    file_notice(client, W0, W1)
    assert missing_alarm_keys(inside) == []
    assert Alarm.objects.get().state == "closed"
    # afterwards the window's data is still owed: the slot after it arrived, the window's did not
    arrived(point, W1)
    after = W1 + timedelta(hours=2, minutes=10)
    assert missing_alarm_keys(after) == [f"point:{point.pk}"]
    assert Alarm.objects.get().evidence["missing_slots"] == 3
    # the subject backfills the window: the alarm closes
    arrived(point, W0, W0 + timedelta(hours=2), W0 + timedelta(hours=4))
    assert missing_alarm_keys(after) == []
