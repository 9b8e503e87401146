"""Model and form choices derived from egsu.vocabulary, with labels in the user's language.

The vocabulary is Django-free; this is the one place that turns it into (value, lazy label)
pairs, so a field's choices, a form's options and a page's words never drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import lazy
from django.utils.translation import gettext

from egsu.vocabulary import METER_ENERGIES, AlarmState, Energy, Interval, Severity

_lazy_text = lazy(gettext, str)


def label(word: Interval | Energy | Severity | AlarmState | str) -> str:
    """The translated label of a vocabulary word (or of its code); the code itself when unknown."""
    for vocabulary in (Interval, Energy, Severity, AlarmState):
        try:
            return gettext(vocabulary(word).label)
        except ValueError:
            continue
    return str(word)


def interval_choices(intervals: Iterable[Interval] | None = None) -> list[tuple[str, str]]:
    """(code, "2 hours") for the given intervals, all stored intervals by default."""
    chosen = intervals if intervals is not None else [i for i in Interval if i.stored]
    return [(i.value, _lazy_text(i.label)) for i in chosen]


def energy_choices(energies: Iterable[Energy] | None = None) -> list[tuple[str, str]]:
    chosen = energies if energies is not None else list(Energy)
    return [(e.value, _lazy_text(e.label)) for e in chosen]


def meter_energy_choices() -> list[tuple[str, str]]:
    return energy_choices(METER_ENERGIES)


def severity_choices() -> list[tuple[str, str]]:
    return [(s.value, _lazy_text(s.label)) for s in Severity]


def alarm_state_choices() -> list[tuple[str, str]]:
    return [(s.value, _lazy_text(s.label)) for s in AlarmState]
