"""The alarms and notices in the read API (issue 14 items 3 and 5), as a django-ninja Router.

- `GET /alarms`: the alarms the signed-in user's scope sees (session), filtered like the cabinet's
  list (state, severity, subject, metering point, energy, since).
- `POST /notices`: a subject's agent files an outage, maintenance or device-failure notice with its
  connected system's credentials: HTTP Basic with the ISUN senderId and password, or the head-end's
  Bearer token (AMI-25).

The router is one line of the read API's `egsu.api.v1.ROUTERS`: `GET /api/v1/alarms` takes a
personal API token (Bearer) like every read, or the cabinet's session.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBasicAuth, HttpBearer, django_auth

from egsu.access import scope as gate
from egsu.alarms.filters import AlarmFilter
from egsu.alarms.models import Notice, NoticeKind
from egsu.alarms.views import file_notice
from egsu.api.auth import TokenBearer

router = Router(tags=["alarms"])


class AlarmOut(Schema):
    id: int
    source: str
    key: str
    severity: str
    state: str
    title: str
    subject: str | None
    metering_point: int | None
    energy: str
    region: str
    first_seen: datetime
    last_seen: datetime
    count: int
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    closed_at: datetime | None
    comment: str
    evidence: dict


class AlarmFilters(Schema):
    state: str | None = None  # open, acknowledged, closed, or active (open or acknowledged)
    severity: str | None = None
    subject: str | None = None  # BIN
    metering_point: int | None = None
    energy: str | None = None
    since: datetime | None = None  # last seen at or after
    limit: int = 500


def _out(alarm) -> dict:
    return {
        "id": alarm.pk, "source": alarm.source, "key": alarm.key, "severity": alarm.severity, "state": alarm.state,
        "title": alarm.title, "subject": alarm.subject.bin if alarm.subject else None,
        "metering_point": alarm.point_id, "energy": alarm.energy, "region": alarm.region,
        "first_seen": alarm.first_seen, "last_seen": alarm.last_seen, "count": alarm.count,
        "opened_at": alarm.opened_at, "acknowledged_at": alarm.acknowledged_at,
        "acknowledged_by": alarm.acknowledged_by.get_username() if alarm.acknowledged_by else None,
        "closed_at": alarm.closed_at, "comment": alarm.comment, "evidence": alarm.evidence,
    }  # fmt: skip


@router.get(
    "/alarms",
    response=list[AlarmOut],
    auth=[TokenBearer(), django_auth],
    summary="Alarms in the caller's scope",
)
def list_alarms(request: HttpRequest, filters: Query[AlarmFilters]):
    data = {
        "state": filters.state or "", "severity": filters.severity or "", "subject": filters.subject or "",
        "point": filters.metering_point or "", "energy": filters.energy or "",
        "since": filters.since.isoformat() if filters.since else "",
    }  # fmt: skip
    found = AlarmFilter.for_scope(gate.scope_for(request.user), {k: v for k, v in data.items() if v != ""})
    if found.is_bound and not found.is_valid():
        raise HttpError(400, "; ".join(f"{k}: {' '.join(v)}" for k, v in found.errors.items()))
    alarms = found.alarms().select_related("subject", "acknowledged_by")[: max(1, min(filters.limit, 5000))]
    return [_out(a) for a in alarms]


# ---------------------------------------------------------------- notices from the subject's agent


class SystemBasic(HttpBasicAuth):
    """The connected system's ISUN senderId and password (the same credentials as SendMessage)."""

    def authenticate(self, request, username, password):
        from egsu.registry.services import authenticate_sender

        system = authenticate_sender(username, password)
        return ("system", system.sender_id, system.subject) if system is not None else None


class HeadEndToken(HttpBearer):
    def authenticate(self, request, token):
        from egsu.ami.services import authenticate

        head_end = authenticate(token)
        return ("head-end", head_end.name, head_end.subject) if head_end is not None else None


class NoticeIn(Schema):
    kind: NoticeKind
    starts_at: datetime
    ends_at: datetime
    metering_points: list[str] = []  # "objectId/deviceId" (ISUN) or the meter's serial number
    text: str = ""


class NoticeOut(Schema):
    id: int
    subject: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    metering_points: list[int]


@router.post("/notices", response={201: NoticeOut}, auth=[SystemBasic(), HeadEndToken()],
             summary="A subject's notice: outage, maintenance window or device failure")  # fmt: skip
def post_notice(request: HttpRequest, body: NoticeIn):
    kind_of_caller, name, subject = request.auth
    if body.starts_at.tzinfo is None or body.ends_at.tzinfo is None:
        raise HttpError(400, "times need an offset (e.g. 2025-06-01T22:00:00+05:00)")
    if body.ends_at <= body.starts_at:
        raise HttpError(400, "ends_at must be after starts_at")
    points = [_point(subject, ref) for ref in body.metering_points]
    notice = file_notice(
        Notice(subject=subject, kind=body.kind, starts_at=body.starts_at, ends_at=body.ends_at, text=body.text[:5000]),
        points, via=f"api:{kind_of_caller}:{name}",
    )  # fmt: skip
    return Status(201, {"id": notice.pk, "subject": subject.bin, "kind": notice.kind, "starts_at": notice.starts_at,
                 "ends_at": notice.ends_at, "metering_points": [p.pk for p in points]})  # fmt: skip


class NoticeEndIn(Schema):
    at: datetime
    kinds: list[NoticeKind] = [NoticeKind.OUTAGE, NoticeKind.DEVICE_FAILURE]
    metering_points: list[str] = []


@router.post("/notices/end", auth=[SystemBasic(), HeadEndToken()],
             summary="The failure is over: the subject's open notices of these kinds end at `at`")  # fmt: skip
def end_notices(request: HttpRequest, body: NoticeEndIn):
    """The agent's "restored" (INT-10/11): the open failure notices it filed end now, not at their deadline."""
    from django.db.models import Q

    from egsu.access import audit as trail
    from egsu.access.audit import Event

    _kind, _name, subject = request.auth
    if body.at.tzinfo is None:
        raise HttpError(400, "at needs an offset (e.g. 2025-06-01T22:00:00+05:00)")
    found = Notice.objects.filter(
        subject=subject, kind__in=[str(k) for k in body.kinds], withdrawn_at__isnull=True, via__startswith="api:",
        starts_at__lt=body.at, ends_at__gt=body.at,
    )  # fmt: skip
    if body.metering_points:
        points = [_point(subject, ref) for ref in body.metering_points]
        found = found.filter(Q(points__in=points) | Q(points__isnull=True)).distinct()
    ended = []
    for notice in found:
        notice.ends_at = body.at
        notice.save(update_fields=["ends_at"])
        trail.audit(
            Event.NOTICE_WITHDRAWN, obj=notice, request=request, source="api", summary=f"ended: {notice}"
        )
        ended.append(notice.pk)
    return {"ended": ended}


def _point(subject, ref: str):
    from egsu.points.models import MeteringPoint

    found = MeteringPoint.objects.filter(subject=subject)
    if "/" in ref:
        object_id, device_id = ref.split("/", 1)
        found = found.filter(object_code=object_id, store_device_id=device_id)
    else:
        found = found.filter(serial_number=ref, meter__isnull=False)
    point = found.first()
    if point is None:
        raise HttpError(400, f"metering point {ref!r} is not one of the subject's")
    return point
