"""The cabinet's menu: one list, filtered by the user's scope (modules as data, not ifs in templates)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from egsu.access.roles import Module, Role


@dataclass(frozen=True)
class Item:
    url_name: str
    label: str
    module: str | None = None
    edit: bool = False
    any_of: tuple[str, ...] = ()  # shown when one of these modules is granted
    roles: tuple[str, ...] = ()  # shown only to these roles (empty: every role)


DATA = (Module.OIL_GAS, Module.POWER, Module.HEAT)  # the energies' modules


MENU = [
    Item("cabinet:dashboard", _("Overview")),
    Item("monitoring:arrivals", _("Arrivals"), Module.MONITORING),
    Item("alarms:list", _("Alarms")),
    Item("alarms:notices", _("Notices"), roles=(Role.AUTHORITY, Role.OPERATOR, Role.SUBJECT)),
    Item("cabinet:points", _("Metering points"), any_of=DATA),
    Item("cabinet:readings", _("Readings"), any_of=DATA),
    Item("cabinet:totals", _("Totals"), any_of=DATA),
    Item(
        "cabinet:consumption",
        _("My consumption"),
        any_of=(Module.POWER, Module.HEAT),
        roles=(Role.SUBSCRIBER,),
    ),
    Item("vee:findings", _("Data quality"), any_of=DATA),
    Item("balances:balances", _("Balances"), any_of=DATA),
    Item(
        "analytics:forecasts",
        _("Forecasts"),
        any_of=DATA,
        roles=(Role.AUTHORITY, Role.OPERATOR, Role.SUBJECT),
    ),
    Item(
        "analytics:correlation",
        _("Weather and calendar"),
        any_of=DATA,
        roles=(Role.AUTHORITY, Role.OPERATOR, Role.SUBJECT),
    ),
    Item(
        "analytics:recommendations",
        _("Recommendations"),
        any_of=DATA,
        roles=(Role.AUTHORITY, Role.OPERATOR, Role.SUBJECT),
    ),
    Item("quality:corrections", _("Corrections"), Module.CORRECTIONS),
    Item(
        "schemes:list",
        _("Metering schemes"),
        Module.OIL_GAS,
        roles=(Role.AUTHORITY, Role.OPERATOR, Role.SUBJECT),
    ),
    Item(
        "connections:list",
        _("Gateway connections"),
        Module.OIL_GAS,
        roles=(Role.AUTHORITY, Role.OPERATOR, Role.SUBJECT),
    ),
    Item("reporting:library", _("Reports"), Module.REPORTS),
    Item("inforequests:list", _("Information requests"), roles=(Role.AUTHORITY, Role.STATE_BODY)),
    Item("feedback:register", _("Feedback"), Module.OPERATIONS, edit=True),
    Item("access:users", _("Users"), Module.USERS, edit=True),
    Item("access:audit", _("Audit log"), Module.AUDIT, edit=True),
    Item("jobs:jobs", _("Background jobs"), Module.OPERATIONS, edit=True),
    Item("mail:outbox", _("Outgoing mail"), Module.OPERATIONS, edit=True),
    Item("api:tokens", _("API tokens"), any_of=(*DATA, Module.MONITORING)),
]


def menu_for(scope) -> list[dict]:
    items = []
    for item in MENU:
        if (
            scope.role is None
            or (item.module and not scope.has(item.module))
            or (item.edit and not scope.can_edit)
            or (item.any_of and not any(scope.has(m) for m in item.any_of))
            or (item.roles and scope.role not in item.roles)
        ):
            continue
        try:
            items.append({"url": reverse(item.url_name), "label": item.label, "name": item.url_name})
        except NoReverseMatch:
            continue  # a page not built yet
    return items


def cabinet(request) -> dict:
    """Context processor: the menu and the scope for every template."""
    scope = getattr(request, "scope", None)
    if scope is None or not request.user.is_authenticated:
        return {"menu": [], "scope": scope, "role_label": ""}
    from egsu.access.roles import Role

    label = Role(scope.role).label if scope.role else ""
    return {"menu": menu_for(scope), "scope": scope, "role_label": label, "open_alarms": open_alarms(scope)}


def open_alarms(scope) -> int:
    """The header's badge: open alarms (not yet acknowledged) in the user's scope."""
    if scope.role is None:
        return 0
    from egsu.access.scope import alarms
    from egsu_core.vocabulary import AlarmState

    return alarms(scope).filter(state=AlarmState.OPEN).count()
