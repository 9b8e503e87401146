"""Manual corrections under a commission act (Rules §53, ANA-09): the rules that need no Django.

The life of an act, what a user may type as a value or a period, and how a stored revision
points back at its act. The Django side (models, services, views) asks here.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from egsu.readings.store import value_fits
from egsu_core.clock import from_astana

# A correction's source in the readings store points at its act (design.md: a revision
# "points at its act"); the store keeps at most 100 characters of source.
ACT_SOURCE_PREFIX = "act:"


class ActState(StrEnum):
    PROPOSED = "proposed"  # the operator's proposal, waiting for the subject
    AGREED = "agreed"  # the subject agreed; applied in the same transaction
    REFUSED = "refused"  # the subject refused, with a reason
    APPLIED = "applied"  # the corrected values are a new revision in the store
    WITHDRAWN = "withdrawn"  # the proposer took it back before a decision


# Which state may follow which. Nothing is applied without the subject's agreement (ANA-09).
TRANSITIONS: dict[ActState, frozenset[ActState]] = {
    ActState.PROPOSED: frozenset({ActState.AGREED, ActState.REFUSED, ActState.WITHDRAWN}),
    ActState.AGREED: frozenset({ActState.APPLIED}),
    ActState.REFUSED: frozenset(),
    ActState.APPLIED: frozenset(),
    ActState.WITHDRAWN: frozenset(),
}


def may_move(current: str, target: str) -> bool:
    return ActState(target) in TRANSITIONS[ActState(current)]


def act_source(number: str) -> str:
    """The `source` a corrected revision carries: `act:<number>`."""
    return f"{ACT_SOURCE_PREFIX}{number}"


def act_number_from_source(source: str) -> str | None:
    """The act number behind a stored revision, or None when the value came from a message."""
    if source.startswith(ACT_SOURCE_PREFIX) and len(source) > len(ACT_SOURCE_PREFIX):
        return source[len(ACT_SOURCE_PREFIX) :]
    return None


class ValueSyntaxError(ValueError):
    """A corrected value the user typed that is not a number the store keeps exactly."""


_SPACES = re.compile(r"[\s\u00a0\u202f]")


def parse_value(text: str) -> Decimal:
    """A decimal typed by a person: `1234.5`, `1234,5` (kk/ru decimal comma), `1 234,5`.

    Refuses anything the readings store could not keep exactly, rather than rounding it.
    """
    cleaned = _SPACES.sub("", text or "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise ValueSyntaxError(f"not a decimal number: {text!r}")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes these
        raise ValueSyntaxError(f"not a decimal number: {text!r}") from exc
    if not value_fits(value):
        raise ValueSyntaxError(
            f"{text!r} has more digits than a stored value keeps (15 significant, 12 decimals)"
        )
    return value


class PeriodSyntaxError(ValueError):
    """A period start that is not an ISO 8601 date-time."""


def parse_period(text: str) -> datetime:
    """A period start from a link or a form, as an aware UTC instant.

    ISO 8601 with an offset (`2025-06-01T02:00:00+05:00`, `…Z`) is taken as given; without an
    offset it is Astana wall-clock time (INT-37), as a `datetime-local` input sends it. A `+`
    that a query string turned into a space is put back.
    """
    raw = (text or "").strip()
    if re.search(r"[T ]\d\d:\d\d(:\d\d(\.\d+)?)? \d\d:\d\d$", raw):  # "…T02:00:00 05:00": '+' decoded
        raw = raw[:-6] + "+" + raw[-5:]
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise PeriodSyntaxError(f"not an ISO 8601 date-time: {text!r}") from exc
    return from_astana(moment)
