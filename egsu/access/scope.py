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


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    role: str | None  # None: anonymous, or a user without a profile
    all_subjects: bool
    subject_bins: frozenset[str]
    modules: frozenset[str]
    meter_accounts: frozenset[str] = frozenset()

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
        meter_accounts=frozenset(profile.meter_accounts),
    )


def require(scope: Scope, module: str) -> None:
    if not scope.has(module):
        raise PermissionDenied(f"module {module} is not granted")


def require_edit(scope: Scope) -> None:
    if not scope.can_edit:
        raise PermissionDenied("this role may read but not change data (ACC-13)")


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


def readings(scope: Scope) -> QuerySet:
    """Readings of the facilities in scope (object ids are plain strings in the store, by design)."""
    from egsu.readings.models import Reading

    if scope.all_subjects:
        return Reading.objects.all()
    return Reading.objects.filter(object_id__in=facilities(scope).values("object_id"))


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


# ---------------------------------------------------------------- AMI meters (issue 5 with issue 7)

# The module that grants each energy's meters. Distribution gas is AMI (utility) metering, sent by
# the same head-ends and read by the same subscribers as electricity; OIL_GAS is the ISUN oil and
# gas reporting of App.1, a different feed. Until roles.py has a GAS module, gas meters are under
# POWER, so a subscriber (POWER, HEAT) sees its household gas meter too.
METER_MODULES: dict[str, str] = {"electricity": Module.POWER, "heat": Module.HEAT, "gas": Module.POWER}


def meter_energies(scope: Scope) -> list[str]:
    """The energies whose meters this scope may see (by the modules granted)."""
    return [energy for energy, module in METER_MODULES.items() if scope.has(module)]


def meters(scope: Scope) -> QuerySet:
    """AMI meters in scope: of the energies granted, and of the subjects seen or the subscriber's accounts.

    A meter belongs to its metering object's subject; to the reporting utility (Meter.subject) when
    the object has none.
    """
    from django.db.models import Q

    from egsu.ami.models import Meter

    found = Meter.objects.filter(energy__in=meter_energies(scope))
    if scope.all_subjects:
        return found
    owned = Q(metering_object__subject__bin__in=scope.subject_bins) | Q(
        metering_object__subject__isnull=True, subject__bin__in=scope.subject_bins
    )
    if scope.meter_accounts:
        owned |= Q(account__in=scope.meter_accounts) & ~Q(account="")
    return found.filter(owned)


def meter_readings(scope: Scope) -> QuerySet:
    """Readings of the meters in scope (object_id = metering object code, device_id = meter id)."""
    from django.db.models import CharField
    from django.db.models.functions import Cast

    from egsu.readings.models import Reading

    ids = meters(scope).annotate(store_id=Cast("pk", output_field=CharField())).values("store_id")
    codes = meters(scope).values("metering_object__code")
    return Reading.objects.filter(object_id__in=codes, device_id__in=ids)


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
