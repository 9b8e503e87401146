"""Who may see and change what (Rules ch.4, ACC-10..18): the roles and the modules, as data."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AUTHORITY = "authority", _("Authorized body")  # ACC-12: all information, with the right to process it
    OPERATOR = "operator", _("Data operator")  # registers, connects, watches arrivals, corrects under an act
    SUBJECT = "subject", _("Subject user")  # ACC-15(1): what its organisation submitted, plus public data
    STATE_BODY = "state_body", _("Other state body")  # ACC-13, ACC-16: read only, only what is granted
    SUBSCRIBER = "subscriber", _("Subscriber")  # its own meters' consumption (Tech.req. §4 8)


class Module(models.TextChoices):
    OIL_GAS = "oil_gas", _("Oil and gas metering")
    POWER = "power", _("Electricity")
    HEAT = "heat", _("Heat")
    MONITORING = "monitoring", _("Arrivals monitoring")
    REPORTS = "reports", _("Reports and exports")
    CORRECTIONS = "corrections", _("Manual corrections")
    USERS = "users", _("User management")
    AUDIT = "audit", _("Audit log")
    OPERATIONS = "operations", _("System operations")  # background jobs, outgoing mail (DIG-22)


# What each role gets when nobody granted anything narrower (a state body gets nothing by default).
DEFAULT_MODULES: dict[str, frozenset[str]] = {
    Role.AUTHORITY: frozenset(Module.values),
    Role.OPERATOR: frozenset(Module.values),
    Role.SUBJECT: frozenset({Module.OIL_GAS, Module.POWER, Module.HEAT, Module.MONITORING, Module.REPORTS,
                             Module.CORRECTIONS}),
    Role.STATE_BODY: frozenset(),
    Role.SUBSCRIBER: frozenset({Module.POWER, Module.HEAT}),
}  # fmt: skip

# Roles that see every subject (ACC-12, design.md: authorized body and data operator).
NATIONAL_ROLES = frozenset({Role.AUTHORITY, Role.OPERATOR})
# Roles that may change data at all (ACC-12 vs ACC-13: everyone else reads only).
EDITING_ROLES = frozenset({Role.AUTHORITY, Role.OPERATOR})
