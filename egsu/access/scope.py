"""The one permission gate (style.md): every page, API, export, report and task asks here.

Who sees what is data (the user's Profile: role, subjects, modules), never `if`s in
views. A refused scope is empty, not an error, so a list simply shows nothing; a
change is refused with PermissionDenied by `require_*`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from egsu.access.roles import DEFAULT_MODULES, EDITING_ROLES, NATIONAL_ROLES, Module, Role
from egsu.vocabulary import Energy


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    role: str | None  # None: anonymous, or a user without a profile
    all_subjects: bool
    subject_bins: frozenset[str]
    modules: frozenset[str]
    meter_accounts: frozenset[tuple[str, str]] = frozenset()  # (supplier BIN, account), AMI-08

    @property
    def anonymous(self) -> bool:
        return self.role is None

    @property
    def can_edit(self) -> bool:
        """ACC-12/13: only the authorized body and the data operator process data."""
        return self.role in EDITING_ROLES

    @property
    def can_propose_corrections(self) -> bool:
        return self.role in EDITING_ROLES and Module.CORRECTIONS in self.modules

    @property
    def can_agree_corrections(self) -> bool:
        """Rules §53: the subject agrees a correction of its own data."""
        return self.role == Role.SUBJECT and Module.CORRECTIONS in self.modules

    def has(self, module: str) -> bool:
        return module in self.modules

    def sees_subject(self, bin_: str) -> bool:
        return self.all_subjects or bin_ in self.subject_bins


NOBODY = Scope(user_id=None, role=None, all_subjects=False, subject_bins=frozenset(), modules=frozenset())


def scope_for(user) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    profile = getattr(user, "profile", None)
    if profile is None:
        if user.is_superuser:  # the administrator `egsu init` creates
            return Scope(user.pk, Role.AUTHORITY, True, frozenset(), DEFAULT_MODULES[Role.AUTHORITY])
        return Scope(user.pk, None, False, frozenset(), frozenset())
    national = profile.role in NATIONAL_ROLES
    bins = frozenset() if national else frozenset(profile.subjects.values_list("bin", flat=True))
    return Scope(
        user_id=user.pk,
        role=profile.role,
        all_subjects=national,
        subject_bins=bins,
        modules=profile.granted_modules,
        meter_accounts=frozenset(tuple(pair) for pair in profile.meter_accounts if len(pair) == 2),
    )


def require(scope: Scope, module: str) -> None:
    if not scope.has(module):
        raise PermissionDenied(f"module {module} is not granted")


def require_edit(scope: Scope) -> None:
    if not scope.can_edit:
        raise PermissionDenied("this role may read but not change data (ACC-13)")


def may_administer(user) -> bool:
    """The Django admin edits the registry (ACC-12/13): active staff whose role may change data, or the
    system administrator (a superuser without a profile, made by `egsu init`). Every other role — and
    staff of a read-only role — is refused the whole admin site."""
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return False
    if user.is_superuser:
        return True
    return scope_for(user).can_edit


def may_use_test_pki(production: bool) -> bool:
    """/test-pki/ (the stand's OCSP, CRLs, CA certificates) is public on a test stand — OCSP and CRL
    clients do not sign in — and does not exist in production."""
    return not production


# ---------------------------------------------------------------- querysets through the gate


def subjects(scope: Scope) -> QuerySet:
    from egsu.registry.models import Subject

    if scope.all_subjects:
        return Subject.objects.all()
    return Subject.objects.filter(bin__in=scope.subject_bins)


def facilities(scope: Scope) -> QuerySet:
    from egsu.registry.models import Facility

    if scope.all_subjects:
        return Facility.objects.all()
    return Facility.objects.filter(subject__bin__in=scope.subject_bins)


def devices(scope: Scope) -> QuerySet:
    from egsu.registry.models import Device

    if scope.all_subjects:
        return Device.objects.all()
    return Device.objects.filter(facility__subject__bin__in=scope.subject_bins)


def journal(scope: Scope) -> QuerySet:
    """Journal entries of the connected systems of the subjects in scope."""
    from egsu.journal.models import JournalEntry
    from egsu.registry.models import ConnectedSystem

    if scope.all_subjects:
        return JournalEntry.objects.all()
    senders = ConnectedSystem.objects.filter(subject__bin__in=scope.subject_bins).values("sender_id")
    return JournalEntry.objects.filter(sender_id__in=senders) | JournalEntry.objects.filter(
        addressee__in=senders
    )


def users(scope: Scope) -> QuerySet:
    """Accounts the user-management pages list: everyone, for editing roles holding USERS (ACC-12)."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if not (scope.can_edit and scope.has(Module.USERS)):
        return user_model.objects.none()
    return user_model.objects.all()


def audit_events(scope: Scope) -> QuerySet:
    """The audit trail: only editing roles holding the AUDIT module read it."""
    from egsu.access.models import AuditEvent

    if not (scope.can_edit and scope.has(Module.AUDIT)):
        return AuditEvent.objects.none()
    return AuditEvent.objects.all()


# ---------------------------------------------------------------- metering points (docs/decisions/0007)

# The module that grants each energy's metering points. Distribution gas is AMI (utility) metering,
# sent by the same head-ends and read by the same subscribers as electricity; OIL_GAS is the ISUN
# oil and gas reporting of App.1. Until roles.py has a GAS module, gas meters are under POWER.
ENERGY_MODULES: dict[str, str] = {
    Energy.OIL_GAS: Module.OIL_GAS,
    Energy.ELECTRICITY: Module.POWER,
    Energy.HEAT: Module.HEAT,
    Energy.GAS: Module.POWER,
}
METER_MODULES: dict[str, str] = {e: m for e, m in ENERGY_MODULES.items() if e != Energy.OIL_GAS}


def energies(scope: Scope) -> list[str]:
    """The energies whose metering points this scope may see (by the modules granted)."""
    return [energy for energy, module in ENERGY_MODULES.items() if scope.has(module)]


def arrival_energies(scope: Scope) -> list[str]:
    """Whose arrivals a scope may count: oil and gas submissions with the MONITORING module (a status,
    not values), and the meters of the energies whose modules it holds."""
    return ([Energy.OIL_GAS.value] if scope.has(Module.MONITORING) else []) + meter_energies(scope)


def meter_energies(scope: Scope) -> list[str]:
    """The energies whose AMI meters this scope may see."""
    return [energy for energy in energies(scope) if energy != Energy.OIL_GAS]


def points(scope: Scope, *, energies_seen: list[str] | None = None) -> QuerySet:
    """Metering points in scope: of the energies granted, and of the subjects seen or the subscriber's meters.

    A point belongs to its facility's or metering object's subject (the meter's utility when the
    object has none). A subscriber's meter is named by (supplier BIN, personal account), never by
    the account alone: another utility's meter with the same account number stays invisible.
    `energies_seen` replaces the energies the modules grant (arrivals: see `arrival_energies`).
    """
    from django.db.models import Q

    from egsu.points.models import MeteringPoint

    found = MeteringPoint.objects.filter(
        energy__in=energies(scope) if energies_seen is None else energies_seen
    )
    if scope.all_subjects:
        return found
    owned = Q(subject__bin__in=scope.subject_bins)
    if Energy.OIL_GAS in (energies(scope) if energies_seen is None else energies_seen):
        # OGM-02: another company's device at an acceptance-delivery point metering a flow of an
        # approved scheme of a subject in scope: both subjects see its values for that flow.
        from egsu.schemes.services import shared_points_filter

        owned |= Q(pk__in=shared_points_filter(scope.subject_bins))
    for supplier, account in sorted(scope.meter_accounts):
        owned |= Q(supplier__bin=supplier, account=account) & ~Q(account="")
    return found.filter(owned)


def series(scope: Scope, chosen: QuerySet | None = None):
    """What the readings store may return for this scope: a SeriesSet of metering points, or None.

    None means "no restriction" and is given only to a national role asking for everything; any
    narrower question (a subject, a region, one point) passes its points, so the store never sees
    a value the gate did not let through.
    """
    from egsu.readings.query_series import QuerySeries

    if chosen is None:
        if scope.all_subjects and set(energies(scope)) == set(ENERGY_MODULES):
            return None
        chosen = points(scope)
    return QuerySeries(chosen, object_field="object_code", device_field="store_device_id")


def meters(scope: Scope) -> QuerySet:
    """AMI meters in scope (registry pages and the meter's own page), through their points."""
    from egsu.ami.models import Meter

    return Meter.objects.filter(metering_point__in=points(scope))


# ---------------------------------------------------------------- system operations (jobs, outgoing mail)


def may_operate(scope: Scope) -> bool:
    """The queue and the outbox: editing roles holding OPERATIONS (the operator, the authorized body)."""
    return scope.can_edit and scope.has(Module.OPERATIONS)


def jobs(scope: Scope) -> QuerySet:
    from egsu.jobs.models import Job

    return Job.objects.all() if may_operate(scope) else Job.objects.none()


def mails(scope: Scope) -> QuerySet:
    """Outgoing e-mail: recipients' addresses and texts, so only for those who run the System."""
    from egsu.mail.models import Mail

    return Mail.objects.all() if may_operate(scope) else Mail.objects.none()


# ---------------------------------------------------------------- reports, information requests, feedback


def report_kinds(scope: Scope) -> list[str]:
    """Kinds of regular report this scope may read (REPORTS, and a module that opens the kind's data)."""
    if not scope.has(Module.REPORTS):
        return []
    opens = {
        "oil_gas_turnover": scope.has(Module.OIL_GAS),
        "consumption": scope.has(Module.POWER) or scope.has(Module.HEAT),
        "arrivals": scope.has(Module.MONITORING),
    }
    return [kind for kind, allowed in opens.items() if allowed]


def reports(scope: Scope) -> QuerySet:
    """The reports library (ANA-07): national and regional reports for roles that see every subject;
    a subject's own (local) reports for anyone who sees that subject."""
    from egsu.reporting.models import Report

    kinds = report_kinds(scope)
    if not kinds:
        return Report.objects.none()
    found = Report.objects.filter(kind__in=kinds)
    if scope.all_subjects:
        return found
    return found.filter(level="local", area__in=scope.subject_bins)


def may_file_info_request(scope: Scope) -> bool:
    """ACC-16: a state body asks the authorized body for information; it never queries directly."""
    return scope.role == Role.STATE_BODY


def may_decide_info_request(scope: Scope) -> bool:
    """ACC-16: the authorized body decides (not the data operator)."""
    return scope.role == Role.AUTHORITY


def info_requests(scope: Scope) -> QuerySet:
    """The authorized body sees every request; a state body's user only its own; nobody else any."""
    from egsu.inforequests.models import InfoRequest

    if may_decide_info_request(scope):
        return InfoRequest.objects.all()
    if may_file_info_request(scope):
        return InfoRequest.objects.filter(requester_id=scope.user_id)
    return InfoRequest.objects.none()


def approved_scope(request) -> Scope:
    """The scope a request's data package is built through: only what the authorized body approved —
    the approved subjects, and the module of the approved data (ACC-16)."""
    modules = {"totals": ENERGY_MODULES.get(request.energy, Module.OIL_GAS), "arrivals": Module.MONITORING}
    return Scope(
        user_id=request.requester_id,
        role=Role.STATE_BODY,
        all_subjects=False,
        subject_bins=frozenset(request.subjects.values_list("bin", flat=True)),
        modules=frozenset({modules[request.what]}),
    )


def may_answer_feedback(scope: Scope) -> bool:
    """The feedback register (GEN-07) is the operators': editing roles holding OPERATIONS."""
    return scope.can_edit and scope.has(Module.OPERATIONS)


def feedback(scope: Scope) -> QuerySet:
    """Every message for those who answer them; one's own otherwise (anyone signed in may write)."""
    from egsu.feedback.models import Feedback

    if may_answer_feedback(scope):
        return Feedback.objects.all()
    if scope.user_id is None:
        return Feedback.objects.none()
    return Feedback.objects.filter(author_id=scope.user_id)
