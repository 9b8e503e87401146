"""Device metrology and documents (OGM-08/09, DIG-46), failures and replacement (DIG-45, OGM-12),
obligated objects (OGM-07): one store keyed by metering point, so oil and gas devices and AMI meters
share it. The watches run daily (egsu.jobs.schedule) and raise alarms and e-mail for what is overdue."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from egsu.access.audit import Event, audit
from egsu.access.scope import Scope
from egsu.schemes.models import (
    Document,
    Failure,
    Metrology,
    ObligatedObject,
    ReplacementPeriod,
    Verification,
)
from egsu.schemes.services import WorkflowError, today
from egsu_core.clock import utcnow

VERIFICATION_WARN_DAYS = 30
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
DEFAULT_REPLACEMENT_DAYS = 30  # Rules §101 (heat supply); other sectors: ReplacementPeriod rows


def _require_change(scope: Scope, point) -> None:
    """The point's subject keeps its papers; the operator and the authorized body may too."""
    if scope.role is None or not (scope.can_edit or scope.sees_subject(point.subject.bin)):
        raise PermissionDenied("not this point's subject")


# ---------------------------------------------------------------- documents


def documents_dir() -> Path:
    return settings.CONFIG.var_dir / "documents"


def document_path(sha256: str) -> Path:
    return documents_dir() / sha256[:2] / sha256


def store_document(
    scope: Scope, user, point, kind: str, name: str, data: bytes, content_type: str = ""
) -> Document:
    """Keep a file (content-addressed under var/documents) as the next version of (point, kind, name)."""
    _require_change(scope, point)
    if not data or len(data) > MAX_DOCUMENT_BYTES:
        raise WorkflowError(_("A document must be a non-empty file of at most 50 MB."))
    name = Path(name).name[:200] or "document"
    digest = hashlib.sha256(data).hexdigest()
    path = document_path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(path)
    with transaction.atomic():
        last = (
            Document.objects.filter(point=point, kind=kind, name=name).aggregate(n=Max("version"))["n"] or 0
        )
        document = Document.objects.create(
            point=point, kind=kind, name=name, version=last + 1, sha256=digest, size=len(data),
            content_type=content_type[:100], uploaded_by=user, uploaded_at=utcnow(),
        )  # fmt: skip
        audit(Event.DOCUMENT_STORED, actor=user, obj=document, summary=f"{point.store_key} {kind} {name} v{last + 1}",
              after={"sha256": digest, "size": len(data)})  # fmt: skip
    return document


def read_document(document: Document) -> bytes:
    """The file's bytes, checked against the recorded checksum (a changed file is an error, not data)."""
    data = document_path(document.sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise WorkflowError(_("The stored file does not match its checksum."))
    return data


# ---------------------------------------------------------------- metrology


def set_metrology(scope: Scope, user, point, **fields) -> Metrology:
    _require_change(scope, point)
    metrology, _created = Metrology.objects.get_or_create(point=point)
    before = {k: str(getattr(metrology, k)) for k in fields}
    for name, value in fields.items():
        setattr(metrology, name, value)
    metrology.save()
    audit(
        Event.METROLOGY_CHANGED,
        actor=user,
        obj=metrology,
        before=before,
        after={k: str(v) for k, v in fields.items()},
    )
    return metrology


def record_verification(scope: Scope, user, point, *, verified_on: date, valid_until: date, certificate_no: str,
                        document: Document | None = None) -> Verification:  # fmt: skip
    _require_change(scope, point)
    if valid_until <= verified_on:
        raise WorkflowError(_("The verification must be valid after the day it was made."))
    with transaction.atomic():
        verification = Verification.objects.create(
            point=point, verified_on=verified_on, valid_until=valid_until, certificate_no=certificate_no,
            document=document, recorded_by=user, recorded_at=utcnow(),
        )  # fmt: skip
        audit(
            Event.METROLOGY_VERIFIED,
            actor=user,
            obj=verification,
            summary=f"{point.store_key} until {valid_until}",
        )
        from egsu.alarms.services import clear_alarm

        if valid_until >= today():
            clear_alarm(source=VERIFICATION_SOURCE, key=f"point:{point.pk}", comment="verified")
    return verification


def verification_due(point) -> date | None:
    """The next verification date: the latest recorded verification's, else the meter's own (AMI)."""
    latest = point.verifications.aggregate(d=Max("valid_until"))["d"]
    return latest or point.verification_due


@dataclass(frozen=True)
class VerificationState:
    due: date | None
    overdue: bool
    soon: bool


def verification_state(point, day: date | None = None) -> VerificationState:
    day = day or today()
    due = verification_due(point)
    overdue = due is not None and due < day
    return VerificationState(
        due, overdue, not overdue and due is not None and due <= day + timedelta(days=VERIFICATION_WARN_DAYS)
    )


def overdue_point_ids(point_ids, day: date | None = None) -> set[int]:
    """Which of these points are past their verification (for flags in lists such as the arrivals)."""
    from egsu.points.models import MeteringPoint

    day = day or today()
    found = set()
    for point in MeteringPoint.objects.filter(pk__in=list(point_ids)).annotate(
        latest=Max("verifications__valid_until")
    ):
        due = point.latest or point.verification_due
        if due is not None and due < day:
            found.add(point.pk)
    return found


# One rule for overdue verification, with the alarms' own source and title (labelled in every language).
VERIFICATION_SOURCE = "verification"  # egsu.alarms.sources.VERIFICATION


def watch_verifications(day: date | None = None) -> int:
    """An alarm and an e-mail for every active point past its verification date (OGM-09)."""
    from egsu.alarms.services import raise_alarm
    from egsu.points.models import MeteringPoint
    from egsu_core.vocabulary import Severity

    day = day or today()
    overdue = overdue_point_ids(MeteringPoint.objects.filter(active=True).values_list("pk", flat=True), day)
    from egsu.alarms.services import clear_all_except
    from egsu.alarms.sources import VERIFICATION_OVERDUE

    keys: set[str] = set()
    for point in MeteringPoint.objects.filter(pk__in=overdue).select_related("subject"):
        due = verification_due(point)
        key = f"point:{point.pk}"
        raise_alarm(source=VERIFICATION_SOURCE, key=key, severity=Severity.WARNING, point=point,
                    title=VERIFICATION_OVERDUE,
                    evidence={"verification_due": due.isoformat(), "serial_number": point.serial_number})  # fmt: skip
        keys.add(key)
        _mail_subject(point.subject, gettext_noop("Verification overdue: %(point)s"),
                      {"what": "verification", "point": "/".join(point.store_key), "due": due.isoformat()},
                      key=f"verification:{point.pk}:{due}")  # fmt: skip
    clear_all_except(source=VERIFICATION_SOURCE, keys=keys)  # verified or out of service since
    return len(overdue)


# ---------------------------------------------------------------- failures and replacement


def replacement_days(energy: str) -> int:
    row = ReplacementPeriod.objects.filter(energy=energy).first()
    return row.days if row else DEFAULT_REPLACEMENT_DAYS


def report_failure(
    scope: Scope | None, user, point, *, failed_on: date, source: str = "notice", note: str = "",
    evidence: dict | None = None,
) -> Failure:  # fmt: skip
    """A failure starts the replacement clock (DIG-45); `scope` None: the System itself (a deviceStatus,
    an alarm of a device-fault kind, a notice already checked where it was filed). One clock per point:
    while one runs, the same failure is returned."""
    if scope is not None:
        _require_change(scope, point)
    existing = Failure.objects.filter(point=point, replaced_on__isnull=True).first()
    if existing is not None:
        return existing
    failure = Failure.objects.create(
        point=point, failed_on=failed_on, source=source, note=note[:2000],
        due_on=failed_on + timedelta(days=replacement_days(point.energy)), recorded_by=user, recorded_at=utcnow(),
    )  # fmt: skip
    audit(
        Event.DEVICE_FAILED,
        actor=user,
        obj=failure,
        summary=f"{'/'.join(point.store_key)} replace by {failure.due_on}",
        after={"source": source, "failed_on": failed_on.isoformat(), "due_on": failure.due_on.isoformat(),
               **(evidence or {})},
    )  # fmt: skip
    return failure


# Alarms that say a device itself is at fault or silent; from them a failure may be declared (DIG-45).
FAILURE_ALARM_SOURCES = ("device_status", "meter_event", "missing_data", "vee")


def may_declare_failure(scope: Scope, alarm) -> bool:
    """An alarm about one metering point, of a device kind, handled by this user (the operator or the
    point's subject), while no replacement clock runs for the point."""
    from egsu.access import scope as gate

    return (
        alarm.point_id is not None
        and alarm.source in FAILURE_ALARM_SOURCES
        and gate.may_handle_alarm(scope, alarm)
        and not Failure.objects.filter(point_id=alarm.point_id, replaced_on__isnull=True).exists()
    )


def failure_from_alarm(
    scope: Scope, user, alarm, *, failed_on: date | None = None, note: str = ""
) -> Failure:
    """Declare the device of an open alarm failed (DIG-45): the replacement clock starts on the alarm's
    first day (or the day given), the failure names the alarm, and the alarm is acknowledged with it."""
    from egsu.access import scope as gate
    from egsu.alarms.services import acknowledge
    from egsu.schemes.models import FailureSource
    from egsu_core.clock import astana_date

    if alarm.point_id is None or alarm.source not in FAILURE_ALARM_SOURCES:
        raise WorkflowError(_("This alarm is not about one metering device."))
    if not gate.may_handle_alarm(scope, alarm):
        raise PermissionDenied("only the operator and the subject's users handle its alarms")
    failed_on = failed_on or astana_date(alarm.first_seen)
    if failed_on > today():
        raise WorkflowError(_("A failure cannot start in the future."))
    failure = report_failure(
        scope, user, alarm.point, failed_on=failed_on, source=FailureSource.ALARM,
        note=note or alarm.title, evidence={"alarm": alarm.pk, "alarm_source": alarm.source},
    )  # fmt: skip
    comment = f"device failure recorded, replace by {failure.due_on.isoformat()}"
    if alarm.state == "open":
        acknowledge(alarm, user, comment)
    return failure


def failures_from_notice(notice, points, user) -> int:
    """A subject's device-failure notice naming metering points starts their clocks (DIG-45, INT-11);
    the notice was checked where it was filed (egsu.alarms.views.file_notice)."""
    from egsu.schemes.models import FailureSource
    from egsu_core.clock import astana_date

    started = 0
    for point in points:
        if Failure.objects.filter(point=point, replaced_on__isnull=True).exists():
            continue
        report_failure(None, user, point, failed_on=astana_date(notice.starts_at), source=FailureSource.NOTICE,
                       note=notice.text or "device failure notice", evidence={"notice": notice.pk})  # fmt: skip
        started += 1
    return started


def failures_from_device_status(faults: dict[tuple[str, str], object]) -> int:
    """Devices that reported deviceStatus = no, with the first faulty period: a failure each (once)."""
    from egsu.points.models import MeteringPoint
    from egsu_core.clock import astana_date

    started = 0
    for (object_code, device), first in faults.items():
        point = MeteringPoint.objects.filter(object_code=object_code, store_device_id=device).first()
        if point is None or Failure.objects.filter(point=point, replaced_on__isnull=True).exists():
            continue
        report_failure(None, None, point, failed_on=astana_date(first), source="device_status",
                       note="deviceStatus = no")  # fmt: skip
        started += 1
    return started


def record_replacement(scope: Scope, user, failure: Failure, replacement, *, replaced_on: date) -> Failure:
    """Link the failed and the new device and stop the clock (OGM-12)."""
    _require_change(scope, failure.point)
    if replacement.pk == failure.point_id:
        raise WorkflowError(_("The replacement must be another device."))
    if replaced_on < failure.failed_on:
        raise WorkflowError(_("The replacement cannot be before the failure."))
    failure.replacement, failure.replaced_on = replacement, replaced_on
    failure.save()
    audit(Event.DEVICE_REPLACED, actor=user, obj=failure, summary=f"by {'/'.join(replacement.store_key)}",
          after={"replacement": "/".join(replacement.store_key), "replaced_on": replaced_on.isoformat()})  # fmt: skip
    # the series runs on: the old device's values count until this day, the new one's from it, and
    # arrivals expect each accordingly (egsu.points.lineage)
    from egsu.points.services import refresh_of

    refresh_of([failure.point, replacement])
    from egsu.alarms.services import clear_alarm

    clear_alarm(source=REPLACEMENT_SOURCE, key=f"failure:{failure.pk}", comment="replaced")
    return failure


REPLACEMENT_SOURCE = "metrology.replacement"


def watch_replacements(day: date | None = None) -> int:
    from egsu.alarms.services import raise_alarm
    from egsu_core.vocabulary import Severity

    day = day or today()
    overdue = Failure.objects.filter(replaced_on__isnull=True, due_on__lt=day).select_related(
        "point__subject"
    )
    count = 0
    for failure in overdue:
        point = failure.point
        raise_alarm(source=REPLACEMENT_SOURCE, key=f"failure:{failure.pk}", severity=Severity.CRITICAL, point=point,
                    title=f"Failed device not replaced by {failure.due_on}: {point.object_code}/{point.store_device_id}",
                    evidence={"failed_on": failure.failed_on.isoformat(), "due_on": failure.due_on.isoformat()})  # fmt: skip
        _mail_subject(point.subject, gettext_noop("Failed device not replaced in time: %(point)s"),
                      {"what": "replacement", "point": "/".join(point.store_key), "due": failure.due_on.isoformat()},
                      key=f"replacement:{failure.pk}")  # fmt: skip
        count += 1
    return count


# ---------------------------------------------------------------- obligated objects (Order No. 357)


class ObligationState:
    EQUIPPED = "equipped"
    OVERDUE = "overdue"
    NOT_DUE = "not_due"


def obligation_state(row: ObligatedObject, day: date | None = None) -> str:
    day = day or today()
    if row.equipped_on is not None or _has_points(row):
        return ObligationState.EQUIPPED
    return ObligationState.OVERDUE if row.deadline < day else ObligationState.NOT_DUE


def _has_points(row: ObligatedObject) -> bool:
    from egsu.points.models import MeteringPoint

    return MeteringPoint.objects.filter(
        object_code=row.object_code, subject=row.subject, active=True
    ).exists()


HEADERS = ("bin", "object code", "object name", "deadline")


def import_obligations(user, data: bytes) -> tuple[int, list[str]]:
    """Rows of a workbook (BIN, object code, object name, deadline) into the list; errors by row, none dropped."""
    import io

    from openpyxl import load_workbook

    from egsu.registry.models import Subject

    sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
    rows = sheet.iter_rows(values_only=True)
    header = [str(c or "").strip().lower() for c in next(rows, ())]
    if tuple(header[:4]) != HEADERS:
        return 0, [_("The first row must be: %(headers)s") % {"headers": "; ".join(HEADERS)}]
    stored, errors = 0, []
    now = utcnow()
    for number, cells in enumerate(rows, start=2):
        if not cells or not any(cells):
            continue
        bin_, code, name, deadline = (list(cells) + [None] * 4)[:4]
        subject = Subject.objects.filter(bin=str(bin_ or "").strip()).first()
        if subject is None:
            errors.append(_("Row %(row)s: no subject with BIN %(bin)s") % {"row": number, "bin": bin_})
            continue
        if hasattr(deadline, "date"):
            deadline = deadline.date()
        elif isinstance(deadline, str):
            try:
                deadline = date.fromisoformat(deadline.strip())
            except ValueError:
                deadline = None
        if not isinstance(deadline, date) or not code:
            errors.append(
                _("Row %(row)s: an object code and a deadline (date) are required") % {"row": number}
            )
            continue
        ObligatedObject.objects.update_or_create(
            subject=subject, object_code=str(code).strip(),
            defaults={"name": str(name or code).strip(), "deadline": deadline, "imported_at": now},
        )  # fmt: skip
        stored += 1
    audit(Event.OBLIGATIONS_IMPORTED, actor=user, summary=f"{stored} rows, {len(errors)} errors")
    return stored, errors


OBLIGATION_SOURCE = "metrology.equipping"


def watch_obligations(day: date | None = None) -> int:
    from egsu.alarms.services import clear_alarm, raise_alarm
    from egsu_core.vocabulary import Severity

    day = day or today()
    count = 0
    for row in ObligatedObject.objects.select_related("subject"):
        key = f"obligation:{row.pk}"
        if obligation_state(row, day) != ObligationState.OVERDUE:
            clear_alarm(source=OBLIGATION_SOURCE, key=key)
            continue
        raise_alarm(source=OBLIGATION_SOURCE, key=key, severity=Severity.WARNING, subject=row.subject,
                    energy="oil_gas", title=f"Production object not equipped by {row.deadline}: {row.object_code}",
                    evidence={"deadline": row.deadline.isoformat()})  # fmt: skip
        _mail_subject(row.subject, gettext_noop("Production object not equipped in time: %(point)s"),
                      {"what": "equipping", "point": f"{row.object_code} {row.name}", "due": row.deadline.isoformat()},
                      key=f"obligation:{row.pk}")  # fmt: skip
        count += 1
    return count


def _mail_subject(subject, line: str, context: dict, *, key: str) -> None:
    """The subject's contact address and its users hear of it, once per condition."""
    from egsu.mail.outbox import send
    from egsu.schemes.services import _subject_users

    words = {
        "verification": gettext_noop("The verification of this metering device is overdue."),
        "replacement": gettext_noop("The failed metering device was not replaced within the period."),
        "equipping": gettext_noop(
            "The production object was not equipped with metering devices by its deadline."
        ),
    }
    recipients: list = list(_subject_users(subject))
    if subject.email:
        recipients.append(subject.email)
    for to in recipients:
        send(to, line, template="schemes/mail/overdue.txt", context={**context, "what": words[context["what"]]},
             dedupe_key=key)  # fmt: skip
