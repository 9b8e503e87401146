"""The agreement workflow and the registers around it: every change goes through here (OGM-01..12).

Edges call one function each; each checks the scope (egsu.access.scope), changes rows under a
transaction, audits, and tells people (egsu.mail). Deadlines count Kazakhstan working days
(egsu.calendar_kz, with the operator's transfers: egsu.workdays).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from egsu import calendar_kz
from egsu.access.audit import Event, audit
from egsu.access.roles import Module, Role
from egsu.access.scope import Scope
from egsu.schemes import graph, signing
from egsu.schemes.models import (
    OPEN_FOR_REVIEW,
    Scheme,
    SchemeStep,
    SchemeVersion,
    StepAction,
    VersionStatus,
)
from egsu_core.clock import astana_date, utcnow
from egsu_core.pki import algorithms
from egsu_core.pki.certs import load_certificate
from egsu_core.pki.keys import SigningIdentity, load_identity
from egsu_core.pki.path import validate
from egsu_core.pki.pkcs12 import KeyStoreError

REVIEW_WORKING_DAYS = 30  # OGM-05
REMIND_WORKING_DAYS = 5  # reminders and a warning alarm start this many working days before the deadline
MAX_DRAWING_BYTES = 20 * 1024 * 1024


class WorkflowError(ValueError):
    """A step that cannot be taken as asked; `message` is for people (already translated)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------- who may do what


def may_draft(scope: Scope) -> bool:
    """OGM-04: the subject draws and submits its scheme."""
    return scope.role == Role.SUBJECT and scope.has(Module.OIL_GAS)


def may_review(scope: Scope) -> bool:
    """OGM-05/06: the authorized body reviews and decides."""
    return scope.role == Role.AUTHORITY and scope.has(Module.OIL_GAS)


def schemes(scope: Scope) -> QuerySet:
    if not scope.has(Module.OIL_GAS):
        return Scheme.objects.none()
    found = Scheme.objects.select_related("facility", "subject")
    return found if scope.all_subjects else found.filter(subject__bin__in=scope.subject_bins)


def versions(scope: Scope) -> QuerySet:
    return SchemeVersion.objects.filter(scheme__in=schemes(scope)).select_related(
        "scheme__facility", "scheme__subject"
    )


def approved_version(facility) -> SchemeVersion | None:
    """The version arrivals, balances and the gate use (OGM-04): the approved one, else none."""
    return SchemeVersion.objects.filter(scheme__facility=facility, status=VersionStatus.APPROVED).first()


@dataclass(frozen=True)
class InForce:
    """What a facility's schemes say over a span of days [start, end): the store keys of the metering
    points on the version in force, or None before any version was approved (the registry decides)."""

    start: date | None
    end: date | None
    keys: frozenset[tuple[str, str]] | None
    version_id: int | None = None

    def counts(self, key: tuple[str, str]) -> bool:
        return self.keys is None or key in self.keys


def in_force(facility_ids) -> dict[int, list[InForce]]:
    """Per facility with an approved scheme, its spans of days, oldest first (OGM-04): each approved
    version is in force from its approval day (Astana) until the next approval; a draft, a submitted,
    a refused or a resubmitted version never is. Arrivals and balances read it (`counts_on`)."""
    decided = (
        SchemeVersion.objects.filter(
            scheme__facility_id__in=list(facility_ids),
            status__in=[VersionStatus.APPROVED, VersionStatus.SUPERSEDED],
            decided_at__isnull=False,
        )
        .order_by("scheme__facility_id", "decided_at", "pk")
        .values_list("pk", "scheme__facility_id", "decided_at")
    )
    versions: dict[int, list[tuple[int, date]]] = {}
    for pk, facility_id, decided_at in decided:
        versions.setdefault(facility_id, []).append((pk, astana_date(decided_at)))
    if not versions:
        return {}
    through = SchemeVersion.points.through.objects.filter(
        schemeversion_id__in=[pk for found in versions.values() for pk, _day in found]
    ).values_list("schemeversion_id", "meteringpoint__object_code", "meteringpoint__store_device_id")
    keys: dict[int, set[tuple[str, str]]] = {}
    for pk, code, device in through:
        keys.setdefault(pk, set()).add((code, device))
    found: dict[int, list[InForce]] = {}
    for facility_id, approved in versions.items():
        spans = [InForce(None, approved[0][1], None)]
        for index, (pk, day) in enumerate(approved):
            end = approved[index + 1][1] if index + 1 < len(approved) else None
            if end == day:
                continue  # approved again the same day: the later one is in force from that day
            spans.append(InForce(day, end, frozenset(keys.get(pk, ())), pk))
        found[facility_id] = spans
    return found


def counts_on(spans: list[InForce] | None, key: tuple[str, str], day: date) -> bool:
    """Whether the point `key` counts on `day` by its facility's schemes (no spans: it does)."""
    for span in spans or ():
        if (span.start is None or span.start <= day) and (span.end is None or day < span.end):
            return span.counts(key)
    return True


def owed_by_schemes(spans: list[InForce], key: tuple[str, str]) -> tuple[date | None, date | None]:
    """The last run of days on which `key` is on the version in force: (first day or None = since
    ever, first day it no longer is or None = still). A point dropped from the scheme owes until the
    day before the new version's approval; a point added owes from that day (arrivals, OGM-04)."""
    index = len(spans) - 1
    while index >= 0 and not spans[index].counts(key):
        index -= 1
    if index < 0:
        return None, None
    end = spans[index].end
    while index > 0 and spans[index - 1].counts(key):
        index -= 1
    return spans[index].start, end


def narrow_owed_by_schemes(points) -> None:
    """Narrow freshly derived oil and gas points' owed days by their facility's approved schemes
    (egsu.points.services calls this with the replacements' narrowing)."""
    facility_ids = {p.device.facility_id for p in points if p.device_id is not None}
    timelines = in_force(facility_ids) if facility_ids else {}
    for point in points:
        spans = timelines.get(point.device.facility_id) if point.device_id is not None else None
        if not spans:
            continue
        start, end = owed_by_schemes(spans, point.store_key)
        if start is not None:
            point.owes_from = max(point.owes_from, start)
        if end is not None:
            last = end - timedelta(days=1)
            point.owes_until = last if point.owes_until is None else min(point.owes_until, last)


def shared_points_filter(bins) -> QuerySet:
    """Metering points on the approved schemes of these subjects (OGM-02: another company's device at an
    acceptance-delivery point that meters one of their flows; both subjects see its values)."""
    return SchemeVersion.points.through.objects.filter(
        schemeversion__status=VersionStatus.APPROVED, schemeversion__scheme__subject__bin__in=bins
    ).values("meteringpoint_id")


# ---------------------------------------------------------------- deadlines (OGM-05)


def review_deadline(received_on: date) -> date:
    """The last day of the review: 30 working days counted from the day after receipt."""
    return calendar_kz.add_working_days(received_on, REVIEW_WORKING_DAYS)


def working_days_left(deadline: date, today: date) -> int:
    """Working days from tomorrow up to and including the deadline; 0 on the deadline; negative after."""
    if today <= deadline:
        return calendar_kz.working_days_between(today + timedelta(days=1), deadline + timedelta(days=1))
    return -calendar_kz.working_days_between(deadline + timedelta(days=1), today + timedelta(days=1))


def unconfirmed_calendar(version: SchemeVersion) -> list[int]:
    """The years of the review period whose Government transfers are not confirmed by a decree (OGM-05):
    its deadline counts the law's holidays alone there and may move when the operator enters the decree."""
    if version.received_on is None or version.deadline is None:
        return []
    from egsu.workdays.services import unconfirmed_years

    return unconfirmed_years(*range(version.received_on.year, version.deadline.year + 1))


def today() -> date:
    return astana_date(utcnow())


# ---------------------------------------------------------------- drafting


def point_facts(key: str) -> graph.PointFacts:
    """What the registry says of "object/device": registered as a metering point, of an approved type."""
    from egsu.points.models import MeteringPoint

    object_code, _sep, device = key.partition("/")
    point = (
        MeteringPoint.objects.filter(object_code=object_code, store_device_id=device, active=True)
        .select_related("subject", "metrology")
        .first()
    )
    if point is None:
        return graph.PointFacts(False, False)
    metrology = getattr(point, "metrology", None)
    approved = metrology is not None and metrology.type_approved_on(today())
    return graph.PointFacts(True, approved, point.subject.bin)


def problems(version: SchemeVersion) -> list[graph.Problem]:
    return graph.completeness(graph.Scheme.from_json(version.content or {}), point_facts)


def create_scheme(scope: Scope, user, facility) -> SchemeVersion:
    if not may_draft(scope) or not scope.sees_subject(facility.subject.bin):
        raise PermissionDenied("only the facility's subject draws its scheme")
    with transaction.atomic():
        scheme, _created = Scheme.objects.get_or_create(
            facility=facility, defaults={"subject": facility.subject}
        )
        if scheme.versions.exists():
            return scheme.versions.first()
        version = SchemeVersion.objects.create(
            scheme=scheme, number=1, content=graph.EMPTY.to_json(), created_by=user, created_at=utcnow()
        )
        audit(Event.SCHEME_CREATED, actor=user, obj=version, summary=f"{facility.object_id} v1")
    return version


def save_draft(scope: Scope, user, version: SchemeVersion, nodes_text: str, flows_text: str, *,
               drawing: tuple[str, bytes] | None = None) -> SchemeVersion:  # fmt: skip
    """Store the edited tables (graph.SchemeSyntaxError lists every bad line) and the optional drawing."""
    _require_draft(scope, version)
    scheme = graph.parse(nodes_text, flows_text)
    with transaction.atomic():
        version.content = scheme.to_json()
        if drawing is not None:
            name, data = drawing
            if len(data) > MAX_DRAWING_BYTES or not data.startswith(b"%PDF-"):
                raise WorkflowError(_("The drawing must be a PDF file of at most 20 MB."))
            version.drawing, version.drawing_name = data, name[:200]
            version.drawing_sha256 = hashlib.sha256(data).hexdigest()
        version.save()
        _link_points(version, scheme)
        audit(Event.SCHEME_EDITED, actor=user, obj=version, after={"content": version.content})
    return version


def _link_points(version: SchemeVersion, scheme: graph.Scheme) -> None:
    from egsu.points.models import MeteringPoint

    found = []
    for key in scheme.points:
        object_code, _sep, device = key.partition("/")
        point = MeteringPoint.objects.filter(object_code=object_code, store_device_id=device).first()
        if point is not None:
            found.append(point)
    version.points.set(found)


def _require_draft(scope: Scope, version: SchemeVersion) -> None:
    if not may_draft(scope) or not scope.sees_subject(version.scheme.subject.bin):
        raise PermissionDenied("only the subject edits its scheme")
    if version.status != VersionStatus.DRAFT:
        raise WorkflowError(_("Only a draft can be changed; start a new version."))


def new_version(scope: Scope, user, version: SchemeVersion) -> SchemeVersion:
    """A refused (or approved, to change it) version resubmitted as a new draft with its content."""
    if not may_draft(scope) or not scope.sees_subject(version.scheme.subject.bin):
        raise PermissionDenied("only the subject starts a new version")
    with transaction.atomic():
        scheme = Scheme.objects.select_for_update().get(pk=version.scheme_id)
        if scheme.versions.filter(status__in=[VersionStatus.DRAFT, *OPEN_FOR_REVIEW]).exists():
            raise WorkflowError(_("This scheme already has a version in progress."))
        number = (scheme.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        fresh = SchemeVersion.objects.create(
            scheme=scheme, number=number, content=version.content, drawing=version.drawing,
            drawing_name=version.drawing_name, drawing_sha256=version.drawing_sha256,
            created_by=user, created_at=utcnow(),
        )  # fmt: skip
        fresh.points.set(version.points.all())
        audit(Event.SCHEME_NEW_VERSION, actor=user, obj=fresh, summary=f"from v{version.number}")
    return fresh


# ---------------------------------------------------------------- signing a step


@dataclass(frozen=True)
class Signed:
    xml: bytes
    signer: str
    signer_bin: str
    serial: str
    algorithm: str
    verdict: str
    detail: str


def identity_from_key_store(data: bytes, password: str) -> SigningIdentity:
    try:
        return load_identity(data, password=password)
    except (KeyStoreError, ValueError, algorithms.UnsupportedAlgorithm) as exc:
        raise WorkflowError(_("The key store cannot be opened: %(error)s") % {"error": exc}) from exc


def sign_and_verify(
    identity: SigningIdentity, kind: str, fields: dict[str, str], *, bin_: str = ""
) -> Signed:
    """Sign the statement with the user's key, then verify it as anyone would: the XML signature, the
    certificate's chain to a trusted root, its validity, key usage and revocation — and, for the
    subject's steps, that the certificate is its organisation's (BIN)."""
    from egsu.signatures.services import revocation_checker, trust_store

    xml = signing.sign(identity, signing.statement(kind, fields))
    result, _fields = signing.verify(xml)
    cert = load_certificate(result.certificate_der)
    store = trust_store()
    verdict = validate(cert, trust=store, at=utcnow(), revocation=revocation_checker(),
                       intermediates=(*store.intermediates, *(load_certificate(d) for d in identity.chain_der)))  # fmt: skip
    if not verdict.valid:
        raise WorkflowError(_("The signature was not accepted: %(reason)s") % {"reason": verdict.reason})
    if bin_ and cert.subject_bin != bin_:
        raise WorkflowError(
            _("The certificate is not the subject's (BIN %(bin)s), it names %(other)s.")
            % {"bin": bin_, "other": cert.subject_bin or "—"}
        )
    return Signed(
        xml, cert.common_name, cert.subject_bin or "", f"{cert.serial:x}",
        algorithms.signature_by_uri(result.signature_method).name, verdict.status,
        "; ".join(f"{c.name}: {c.detail}" for c in verdict.checks)[:4000],
    )  # fmt: skip


def _statement_fields(version: SchemeVersion, action: str, user, at) -> dict[str, str]:
    content = graph.Scheme.from_json(version.content)
    canonical = repr(content.to_json()).encode()
    return {
        "action": action,
        "subjectBin": version.scheme.subject.bin,
        "objectId": version.scheme.facility.object_id,
        "version": str(version.number),
        "contentSha256": hashlib.sha256(canonical).hexdigest(),
        "drawingSha256": version.drawing_sha256,
        "actor": user.get_username(),
        "at": at.isoformat(),
    }


def _record(version: SchemeVersion, action: str, user, at, signed: Signed) -> SchemeStep:
    return SchemeStep.objects.create(
        version=version, action=action, actor=user, at=at, signed_xml=signed.xml, signer=signed.signer[:300],
        signer_bin=signed.signer_bin, certificate_serial=signed.serial, algorithm=signed.algorithm,
        verdict=signed.verdict, verdict_detail=signed.detail,
    )  # fmt: skip


# ---------------------------------------------------------------- the workflow (OGM-04..06)


def submit(
    scope: Scope, user, version: SchemeVersion, identity: SigningIdentity, *, request=None
) -> SchemeVersion:
    _require_draft(scope, version)
    found = problems(version)
    if found:
        raise WorkflowError(
            _("The scheme is not complete: %(n)s problem(s) listed under the check.") % {"n": len(found)}
        )
    at = utcnow()
    signed = sign_and_verify(
        identity, "schemeSubmission", _statement_fields(version, StepAction.SUBMIT, user, at),
        bin_=version.scheme.subject.bin,
    )  # fmt: skip
    with transaction.atomic():
        version = SchemeVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != VersionStatus.DRAFT:
            raise WorkflowError(_("Only a draft can be submitted."))
        version.status = VersionStatus.SUBMITTED
        version.submitted_at = at
        version.received_on = astana_date(at)  # received by the System the moment it is submitted
        version.deadline = review_deadline(version.received_on)
        version.save()
        _record(version, StepAction.SUBMIT, user, at, signed)
        audit(
            Event.SCHEME_SUBMITTED,
            actor=user,
            obj=version,
            request=request,
            summary=f"deadline {version.deadline}",
        )
        _tell_reviewers(version, gettext_noop("Scheme %(object)s v%(version)s submitted for agreement"))
    return version


def take(
    scope: Scope, user, version: SchemeVersion, identity: SigningIdentity, *, request=None
) -> SchemeVersion:
    return _review_step(scope, user, version, identity, StepAction.TAKE, request=request)


def approve(
    scope: Scope, user, version: SchemeVersion, identity: SigningIdentity, *, request=None
) -> SchemeVersion:
    return _review_step(scope, user, version, identity, StepAction.APPROVE, request=request)


def refuse(scope: Scope, user, version: SchemeVersion, identity: SigningIdentity, reasons: str, *,
           request=None) -> SchemeVersion:  # fmt: skip
    if not reasons.strip():
        raise WorkflowError(_("A refusal states its reasons."))
    return _review_step(
        scope, user, version, identity, StepAction.REFUSE, reasons=reasons.strip(), request=request
    )


def _review_step(scope, user, version, identity, action, *, reasons: str = "", request=None) -> SchemeVersion:
    if not may_review(scope):
        raise PermissionDenied("only the authorized body reviews schemes")
    allowed = {StepAction.TAKE: (VersionStatus.SUBMITTED,), StepAction.APPROVE: OPEN_FOR_REVIEW,
               StepAction.REFUSE: OPEN_FOR_REVIEW}[action]  # fmt: skip
    if version.status not in allowed:
        raise WorkflowError(_("This step does not apply to a version in this state."))
    at = utcnow()
    fields = _statement_fields(version, action, user, at)
    decided = action != StepAction.TAKE
    if decided:
        fields["decision"] = action
        fields["reasons"] = reasons
    with transaction.atomic():
        version = SchemeVersion.objects.select_for_update().get(pk=version.pk)
        if version.status not in allowed:
            raise WorkflowError(_("This step does not apply to a version in this state."))
        if not decided:
            signed = sign_and_verify(identity, "schemeReview", fields)
            version.status = VersionStatus.UNDER_REVIEW
            version.save()
            _record(version, action, user, at, signed)
            audit(Event.SCHEME_TAKEN, actor=user, obj=version, request=request)
            return version
        version.decided_by, version.decided_at, version.reasons = user, at, reasons
        version.status = VersionStatus.APPROVED if action == StepAction.APPROVE else VersionStatus.REFUSED
        from egsu.schemes.document import build_decision_pdf

        with translation.override(_language_of(version.scheme.subject)):
            pdf = build_decision_pdf(version)
        fields.update(signing.document_fields(pdf))
        signed = sign_and_verify(identity, "schemeDecision", fields)
        version.decision_pdf = signing.attach(pdf, signed.xml)
        version.decision_sha256 = hashlib.sha256(bytes(version.decision_pdf)).hexdigest()
        if action == StepAction.APPROVE:
            version.scheme.versions.filter(status=VersionStatus.APPROVED).exclude(pk=version.pk).update(
                status=VersionStatus.SUPERSEDED
            )
        version.save()
        if action == StepAction.APPROVE:  # arrivals expect the new version's points from today (OGM-04)
            from egsu.points.services import refresh_points
            from egsu.registry.models import Device

            refresh_points(devices=Device.objects.filter(facility=version.scheme.facility))
        _record(version, action, user, at, signed)
        audit(Event.SCHEME_APPROVED if action == StepAction.APPROVE else Event.SCHEME_REFUSED, actor=user, obj=version,
              request=request, after={"reasons": reasons})  # fmt: skip
        from egsu.alarms.services import clear_alarm

        clear_alarm(source=DEADLINE_SOURCE, key=f"version:{version.pk}", at=at, comment="decided")
        _tell_subject(version)
    return version


def _language_of(subject) -> str:
    profile_language = (
        subject.users.values_list("language", flat=True).first() if hasattr(subject, "users") else None
    )
    return profile_language or settings.LANGUAGE_CODE


# ---------------------------------------------------------------- telling people


def _reviewers():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True, profile__role=Role.AUTHORITY).exclude(email="")


def _subject_users(subject):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True, profile__role=Role.SUBJECT,
                                           profile__subjects=subject).exclude(email="")  # fmt: skip


def _context(version: SchemeVersion) -> dict:
    return {"object": version.scheme.facility.object_id, "version": version.number,
            "deadline": version.deadline.isoformat() if version.deadline else "", "reasons": version.reasons}  # fmt: skip


def _tell_reviewers(version: SchemeVersion, subject_line: str, key: str = "") -> None:
    from egsu.mail.outbox import send

    for user in _reviewers():
        send(user, subject_line, template="schemes/mail/review.txt", context=_context(version),
             dedupe_key=key or f"scheme:{version.pk}:submitted")  # fmt: skip


def _tell_subject(version: SchemeVersion) -> None:
    from egsu.mail.outbox import send

    line = (gettext_noop("Scheme %(object)s v%(version)s approved") if version.status == VersionStatus.APPROVED
            else gettext_noop("Scheme %(object)s v%(version)s refused"))  # fmt: skip
    for user in _subject_users(version.scheme.subject):
        send(user, line, template="schemes/mail/decision.txt", context=_context(version),
             dedupe_key=f"scheme:{version.pk}:decided")  # fmt: skip


# ---------------------------------------------------------------- the deadline watch (periodic)

DEADLINE_SOURCE = "schemes.review_deadline"


def watch_deadlines(day: date | None = None) -> int:
    """Reminders and an alarm before and at the review deadline: a warning from REMIND_WORKING_DAYS
    working days before, critical on the deadline and after. Returns how many versions are alarmed."""
    from egsu.alarms.services import raise_alarm
    from egsu_core.vocabulary import Severity

    day = day or today()
    alarmed = 0
    for version in SchemeVersion.objects.filter(status__in=OPEN_FOR_REVIEW).select_related(
        "scheme__facility", "scheme__subject"
    ):
        left = working_days_left(version.deadline, day)
        if left > REMIND_WORKING_DAYS:
            continue
        stage = "overdue" if left < 0 else "due" if left == 0 else "soon"
        raise_alarm(
            source=DEADLINE_SOURCE, key=f"version:{version.pk}",
            severity=Severity.WARNING if left > 0 else Severity.CRITICAL,
            title=f"Scheme review deadline {version.deadline}: {version.scheme.facility.object_id} v{version.number}",
            subject=version.scheme.subject, energy="oil_gas",
            evidence={"deadline": version.deadline.isoformat(), "working_days_left": left, "version": version.pk},
        )  # fmt: skip
        line = {
            "soon": gettext_noop("Reminder: scheme %(object)s v%(version)s is due by %(deadline)s"),
            "due": gettext_noop("Today is the deadline for scheme %(object)s v%(version)s"),
            "overdue": gettext_noop("Overdue: scheme %(object)s v%(version)s was due by %(deadline)s"),
        }[stage]
        _tell_reviewers(version, line, key=f"scheme:{version.pk}:{stage}")
        alarmed += 1
    return alarmed
