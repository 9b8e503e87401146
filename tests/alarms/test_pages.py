"""The alarms pages, export and API per role and scope (MON-05..08), the subscription page, and
notices from subjects (INT-09..12) in the cabinet and through the agent's API call."""

from __future__ import annotations

import base64
import csv
import io

import pytest

from egsu.access.models import AuditEvent
from egsu.access.roles import Role
from egsu.alarms import services
from egsu.alarms.models import Alarm, Notice, Subscription
from egsu.points.models import MeteringPoint


@pytest.fixture
def alarms(world):
    own_point = MeteringPoint.objects.get(device=world.own_device)
    other_point = MeteringPoint.objects.get(device=world.other_device)
    own = services.raise_alarm(source="device_status", key="own", severity="critical", title="Sensor fault",
                               point=own_point)  # fmt: skip
    other = services.raise_alarm(source="device_status", key="other", severity="warning", title="Low battery",
                                 point=other_point)  # fmt: skip
    return own, other


@pytest.mark.django_db
def test_each_role_sees_its_scope_and_the_badge_counts_open_alarms(client_for, alarms, world):
    own, other = alarms
    page = client_for(Role.OPERATOR).get("/cabinet/alarms/")
    assert page.status_code == 200
    assert [r["alarm"].pk for r in page.context["rows"]] == [other.pk, own.pk]
    assert page.context["open_alarms"] == 2
    subject_page = client_for(Role.SUBJECT).get("/cabinet/alarms/?severity=critical")
    assert [r["alarm"].pk for r in subject_page.context["rows"]] == [own.pk]
    assert client_for(Role.SUBJECT).get(f"/cabinet/alarms/{other.pk}/").status_code == 404
    assert client_for(Role.SUBSCRIBER).get("/cabinet/alarms/").context["rows"] == []
    assert client_for("anonymous").get("/cabinet/alarms/").status_code == 302
    # the overview counts by severity, each a link; the point page lists its alarms
    overview = client_for(Role.OPERATOR).get("/cabinet/")
    assert [(c["severity"], c["count"]) for c in overview.context["alarm_counts"]] == [
        ("critical", 1),
        ("warning", 1),
        ("info", 0),
    ]
    point = client_for(Role.SUBJECT).get(f"/cabinet/points/{own.point_id}/")
    assert [r["alarm"].pk for r in point.context["alarm_rows"]] == [own.pk]


@pytest.mark.django_db
def test_acknowledge_and_close_by_the_subjects_user_audited_and_refused_to_others(client_for, alarms):
    own, other = alarms
    subject = client_for(Role.SUBJECT)
    assert (
        subject.post(f"/cabinet/alarms/{own.pk}/acknowledge/", {"comment": "on our way"}).status_code == 302
    )
    own.refresh_from_db()
    assert (own.state, own.acknowledged_by.username, own.comment) == (
        "acknowledged",
        "subject-a",
        "on our way",
    )
    assert (
        client_for(Role.STATE_BODY).post(f"/cabinet/alarms/{own.pk}/close/", {"comment": "x"}).status_code
        == 403
    )
    subject.post(f"/cabinet/alarms/{own.pk}/close/", {"comment": ""})
    own.refresh_from_db()
    assert own.state == "acknowledged"  # no comment, no close
    subject.post(f"/cabinet/alarms/{own.pk}/close/", {"comment": "cover sealed again"})
    own.refresh_from_db()
    assert own.state == "closed"
    assert list(
        AuditEvent.objects.filter(event__startswith="alarm.")
        .order_by("pk")
        .values_list("event", "actor_name")
    ) == [("alarm.acknowledged", "subject-a"), ("alarm.closed", "subject-a")]
    detail = subject.get(f"/cabinet/alarms/{own.pk}/")
    assert [e.action for e in detail.context["entries"]] == ["raised", "acknowledged", "closed"]


@pytest.mark.django_db
def test_the_export_holds_the_filtered_list(client_for, alarms):
    answer = client_for(Role.OPERATOR).get("/cabinet/alarms/export/?severity=warning&format=csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][3] == "Low battery"
    xlsx = client_for(Role.OPERATOR).get("/cabinet/alarms/export/?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert AuditEvent.objects.filter(event="data.export").count() == 2


@pytest.mark.django_db
def test_the_api_lists_alarms_in_scope_with_filters(client_for, alarms, world):
    own, other = alarms
    assert client_for("anonymous").get("/api/v1/alarms").status_code == 401
    every = client_for(Role.OPERATOR).get("/api/v1/alarms").json()
    assert [a["id"] for a in every] == [other.pk, own.pk]
    mine = (
        client_for(Role.SUBJECT)
        .get("/api/v1/alarms", {"state": "open", "since": "2000-01-01T00:00:00Z"})
        .json()
    )
    assert [(a["id"], a["subject"], a["metering_point"]) for a in mine] == [
        (own.pk, world.own.bin, own.point_id)
    ]
    assert (
        client_for(Role.OPERATOR).get("/api/v1/alarms", {"subject": world.other.bin}).json()[0]["id"]
        == other.pk
    )
    assert client_for(Role.OPERATOR).get("/api/v1/alarms", {"severity": "loud"}).status_code == 400


@pytest.mark.django_db
def test_subscription_page_saves_the_users_choices(client_for, world):
    answer = client_for(Role.OPERATOR).post(
        "/cabinet/alarms/notifications/",
        {"active": "on", "severity": "warning", "delivery": "digest", "subjects": [world.own.pk],
         "regions_text": "Atyrau\n"},
    )  # fmt: skip
    assert answer.status_code == 302
    saved = Subscription.objects.get(user=world.users[Role.OPERATOR])
    assert (saved.severity, saved.delivery, saved.regions, list(saved.subjects.all())) == (
        "warning",
        "digest",
        ["Atyrau"],
        [world.own],
    )


@pytest.mark.django_db
def test_notices_filed_in_the_cabinet_and_through_the_api_reach_the_operators_register(client_for, world):
    from tests.registry.factories import make_system

    point = MeteringPoint.objects.get(device=world.own_device)
    filed = client_for(Role.SUBJECT).post("/cabinet/alarms/notices/", {
        "subject": world.own.pk, "kind": "maintenance", "starts_at": "2025-06-01T22:00", "ends_at": "2025-06-02T02:00",
        "points": [point.pk], "text": "Tank farm SCADA upgrade",
    })  # fmt: skip
    assert filed.status_code == 302, filed.context["form"].errors
    assert client_for(Role.OPERATOR).post("/cabinet/alarms/notices/", {}).status_code == 403
    system = make_system("OWN-SYS", subject=world.own)
    auth = "Basic " + base64.b64encode(b"OWN-SYS:s3cret-Password").decode()
    body = {"kind": "outage", "starts_at": "2025-06-03T00:00:00+05:00", "ends_at": "2025-06-03T06:00:00+05:00",
            "metering_points": [f"{point.object_code}/{point.store_device_id}"]}  # fmt: skip
    answer = client_for("anonymous").post("/api/v1/notices", body, content_type="application/json",
                                          headers={"Authorization": auth})  # fmt: skip
    assert answer.status_code == 201, answer.content
    assert answer.json()["metering_points"] == [point.pk]
    wrong = client_for("anonymous").post("/api/v1/notices", body, content_type="application/json",
                                         headers={"Authorization": "Basic " + base64.b64encode(b"OWN-SYS:no").decode()})  # fmt: skip
    assert wrong.status_code == 401
    register = client_for(Role.OPERATOR).get("/cabinet/alarms/notices/")
    assert sorted((n.kind, n.via) for n in register.context["page"]) == [
        ("maintenance", "cabinet"),
        ("outage", f"api:system:{system.sender_id}"),
    ]
    assert list(client_for(Role.STATE_BODY).get("/cabinet/alarms/notices/").context["page"]) == []
    assert Notice.objects.filter(points=point).count() == 2
    assert Alarm.objects.count() == 0


@pytest.mark.django_db
def test_a_subscriber_sees_the_alarms_of_its_own_meters_only(ami):
    from django.contrib.auth.models import User
    from django.test import Client

    from egsu.access.models import Profile

    mine, theirs = (MeteringPoint.objects.get(meter=m) for m in ami.meters[:2])
    MeteringPoint.objects.filter(pk=mine.pk).update(account="ACC-1")
    user = User.objects.create_user("home", "home@example.kz", "x")
    Profile.objects.create(user=user, role=Role.SUBSCRIBER, meter_accounts=[[mine.supplier.bin, "ACC-1"]])
    seen = services.raise_alarm(source="meter_event", key="a", severity="critical", title="Magnetic field detected",
                                point=mine)  # fmt: skip
    services.raise_alarm(
        source="meter_event", key="b", severity="critical", title="Leak detected", point=theirs
    )
    client = Client()
    client.force_login(user)
    assert [a["id"] for a in client.get("/api/v1/alarms").json()] == [seen.pk]
    page = client.get("/cabinet/alarms/")
    assert [r["alarm"].pk for r in page.context["rows"]] == [seen.pk]
    assert not page.context["rows"][0]["may_handle"]  # a subscriber reads, the utility handles
