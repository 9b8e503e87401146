"""The connection workflow (SBR-05..14, INT-17, INT-21): file, review, test access, testing act, go-live.

Test and production credentials stay apart (SBR-14): both passwords are hashed when filed; test access
creates the connected system in the test contour with the test password; go-live switches it to the
production contour and password. The testing act states what the stand journalled for that system.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from egsu.access.audit import Event, audit
from egsu.access.roles import Role
from egsu.access.scope import Scope
from egsu.connections import fields as table1
from egsu.connections.models import ConnectionApplication, ConnectionStep, Status
from egsu.schemes import signing
from egsu.schemes.services import WorkflowError, sign_and_verify
from egsu_core.clock import utcnow
from egsu_core.pki.certs import CertificateError, load_certificate
from egsu_core.pki.keys import SigningIdentity

MIN_PASSWORD = 12


def applications(scope: Scope) -> QuerySet:
    found = ConnectionApplication.objects.select_related("subject", "system")
    if scope.all_subjects:
        return found
    return found.filter(subject__bin__in=scope.subject_bins)


def may_file(scope: Scope) -> bool:
    return scope.role == Role.SUBJECT


def may_operate(scope: Scope) -> bool:
    return scope.role == Role.OPERATOR or (scope.can_edit and scope.role == Role.AUTHORITY)


def _step(app, action, user, at, signed=None) -> ConnectionStep:
    return ConnectionStep.objects.create(
        application=app, action=action, actor=user, at=at, signed_xml=signed.xml if signed else None,
        signer=signed.signer[:300] if signed else "", verdict=signed.verdict if signed else "",
    )  # fmt: skip


def _statement(app, action: str, user, at) -> dict[str, str]:
    return {"action": action, "subjectBin": app.subject.bin, "login": app.login, "serviceKey": table1.SERVICE_KEY,
            "fieldsSha256": hashlib.sha256(repr(sorted(app.fields.items())).encode()).hexdigest(),
            "certificateSha256": app.certificate_sha256, "actor": user.get_username(), "at": at.isoformat()}  # fmt: skip


def file(scope: Scope, user, subject, values: dict[str, str], *, test_password: str, production_password: str,
         certificate: bytes, identity: SigningIdentity) -> ConnectionApplication:  # fmt: skip
    """SBR-05..07: the application, checked, signed with the subject's key and filed."""
    from egsu.registry.models import ConnectedSystem

    if not may_file(scope) or not scope.sees_subject(subject.bin):
        raise PermissionDenied("only the subject files its application")
    values = {f.code: (values.get(f.code) or f.default).strip() for f in table1.FIELDS}
    found = table1.problems(values)
    if found:
        raise WorkflowError("; ".join(f"{_(label)}: {_(text)}" for code, text in found
                                      for label in [next(f.label for f in table1.FIELDS if f.code == code)]))  # fmt: skip
    if len(test_password) < MIN_PASSWORD or len(production_password) < MIN_PASSWORD:
        raise WorkflowError(_("Passwords have at least %(n)s characters.") % {"n": MIN_PASSWORD})
    if test_password == production_password:
        raise WorkflowError(_("The test and production passwords must differ."))
    try:
        cert = load_certificate(certificate)
    except CertificateError as exc:
        raise WorkflowError(
            _("The transport certificate cannot be read: %(error)s") % {"error": exc}
        ) from exc
    login = values["login"].strip()
    if ConnectedSystem.objects.filter(sender_id=login).exists():
        raise WorkflowError(_("The login %(login)s is taken.") % {"login": login})
    at = utcnow()
    app = ConnectionApplication(
        subject=subject, fields=values,
        test_password_hash=make_password(test_password), production_password_hash=make_password(production_password),
        transport_certificate=cert.der, certificate_sha256=hashlib.sha256(cert.der).hexdigest(),
        filed_by=user, filed_at=at,
    )  # fmt: skip
    signed = sign_and_verify(
        identity, "connectionApplication", _statement(app, "file", user, at), bin_=subject.bin
    )
    with transaction.atomic():
        app.save()
        _step(app, "file", user, at, signed)
        audit(Event.CONNECTION_FILED, actor=user, obj=app, summary=login)  # passwords never enter the log
    return app


def _require_operator(scope: Scope, app, *statuses) -> None:
    if not may_operate(scope):
        raise PermissionDenied("the data operator reviews connections")
    if app.status not in statuses:
        raise WorkflowError(_("This step does not apply to an application in this state."))


def refuse(scope: Scope, user, app, note: str) -> ConnectionApplication:
    _require_operator(scope, app, Status.FILED)
    if not note.strip():
        raise WorkflowError(_("A refusal states its reasons."))
    app.status, app.note = Status.REFUSED, note.strip()
    app.save()
    _step(app, "refuse", user, utcnow())
    audit(Event.CONNECTION_REFUSED, actor=user, obj=app, after={"note": app.note})
    return app


def grant_test_access(scope: Scope, user, app) -> ConnectionApplication:
    """INT-17: the system is registered in the test contour with its test credentials only."""
    from egsu.registry.models import ConnectedSystem, Contour, Service

    _require_operator(scope, app, Status.FILED)
    with transaction.atomic():
        system = ConnectedSystem(sender_id=app.login, subject=app.subject, contour=Contour.TEST,
                                 password_hash=app.test_password_hash)  # fmt: skip
        try:
            system.full_clean(exclude=["password_hash"])
        except ValidationError as exc:
            raise WorkflowError("; ".join(exc.messages)) from exc
        system.save()
        service, _created = Service.objects.get_or_create(service_id=table1.SERVICE_KEY,
                                                          defaults={"name": "ISUN oil and gas data (SendMessage)"})  # fmt: skip
        system.services.add(service)
        at = utcnow()
        app.system, app.status, app.test_from = system, Status.TESTING, at
        app.save()
        _step(app, "test_access", user, at)
        audit(Event.CONNECTION_TEST_ACCESS, actor=user, obj=app, summary=f"{system.sender_id} test contour")
    return app


@dataclass(frozen=True)
class Exchange:
    """What the test stand journalled for the system since test access (the act's evidence)."""

    messages: int
    answers: int
    codes: dict[str, int]
    verdicts: dict[str, int]
    first: object
    last: object


def exchange(app) -> Exchange:
    from egsu.journal.models import JournalEntry

    incoming = JournalEntry.objects.filter(
        sender_id=app.login, direction="IN", occurred_at__gte=app.test_from
    )
    answers = JournalEntry.objects.filter(related__in=incoming, direction="OUT")
    codes = Counter(answers.values_list("status_code", flat=True))
    codes.update(incoming.exclude(status_code="").values_list("status_code", flat=True))
    verdicts = Counter(
        (v or "—").split(";")[0][:80] for v in incoming.values_list("signature_verdict", flat=True)
    )
    times = list(incoming.order_by("occurred_at").values_list("occurred_at", flat=True))
    return Exchange(incoming.count(), answers.count(), dict(sorted(codes.items())), dict(sorted(verdicts.items())),
                    times[0] if times else None, times[-1] if times else None)  # fmt: skip


def draw_act(
    scope: Scope, user, app, identity: SigningIdentity, *, live_on: date | None = None
) -> ConnectionApplication:
    """SBR-12 Table 2, generated from the journal, signed by the operator (signature.xml)."""
    from egsu.connections.act import build_act

    _require_operator(scope, app, Status.TESTING)
    seen = exchange(app)
    if seen.messages == 0:
        raise WorkflowError(_("The test stand journalled nothing from this system yet."))
    at = utcnow()
    app.live_on = live_on
    pdf = build_act(app, seen)
    fields = _statement(app, "act_operator", user, at) | signing.document_fields(pdf)
    signed = sign_and_verify(identity, "testingAct", fields)
    with transaction.atomic():
        app.act_pdf = signing.attach(pdf, signed.xml)
        app.act_sha256 = hashlib.sha256(bytes(app.act_pdf)).hexdigest()
        app.status = Status.ACT_DRAWN
        app.save()
        _step(app, "act_operator", user, at, signed)
        audit(Event.CONNECTION_ACT_DRAWN, actor=user, obj=app, summary=f"{seen.messages} messages")
    return app


def sign_act(scope: Scope, user, app, identity: SigningIdentity) -> ConnectionApplication:
    """The subject's signature on the same act bytes (signature-subject.xml, a second incremental update)."""
    if not may_file(scope) or not scope.sees_subject(app.subject.bin):
        raise PermissionDenied("the subject signs its act")
    if app.status != Status.ACT_DRAWN:
        raise WorkflowError(_("This step does not apply to an application in this state."))
    operator = signing.verify_document(bytes(app.act_pdf))
    original = bytes(app.act_pdf)[: operator.signed_length]
    at = utcnow()
    fields = _statement(app, "act_subject", user, at) | signing.document_fields(original)
    signed = sign_and_verify(identity, "testingAct", fields, bin_=app.subject.bin)
    with transaction.atomic():
        operator_xml = signing.attachment(bytes(app.act_pdf))
        app.act_pdf = signing.attach(original, operator_xml, more={SUBJECT_SIGNATURE: signed.xml})
        app.act_sha256 = hashlib.sha256(bytes(app.act_pdf)).hexdigest()
        app.status = Status.ACT_SIGNED
        app.save()
        _step(app, "act_subject", user, at, signed)
        audit(Event.CONNECTION_ACT_SIGNED, actor=user, obj=app)
    return app


SUBJECT_SIGNATURE = "signature-subject.xml"


def go_live(scope: Scope, user, app, live_on: date) -> ConnectionApplication:
    """INT-21: after testing, the system is switched to production with its production password."""
    from egsu.registry.models import Contour

    _require_operator(scope, app, Status.ACT_SIGNED)
    with transaction.atomic():
        system = app.system
        system.contour, system.password_hash = Contour.PRODUCTION, app.production_password_hash
        system.save(update_fields=["contour", "password_hash", "updated_at"])
        app.status, app.live_on = Status.LIVE, live_on
        app.save()
        _step(app, "go_live", user, utcnow())
        audit(
            Event.CONNECTION_LIVE,
            actor=user,
            obj=app,
            summary=f"{system.sender_id} production from {live_on}",
        )
    return app
