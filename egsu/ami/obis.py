"""OBIS identifiers (IEC 62056-61) of electricity channels: format A-B:C.D.E*F (MTR-02).

Plain Python. A channel's OBIS code is checked for its form and, for the energy channels of
the catalogue, against what the code says: C names the quantity (1 A+, 2 A−, 3 R+, 4 R−),
D the kind of value (8 a cumulative register, 29 the energy of one capture period),
E the tariff (0 total, 1..4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FORM = re.compile(r"^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})\*(\d{1,3})$")

ELECTRICITY_MEDIUM = 1
_QUANTITY_BY_C = {1: "A+", 2: "A-", 3: "R+", 4: "R-"}
REGISTER_D = 8  # cumulative register ("time integral 1")
INTERVAL_D = 29  # energy over the capture period of a load profile


@dataclass(frozen=True)
class Obis:
    a: int
    b: int
    c: int
    d: int
    e: int
    f: int

    def __str__(self) -> str:
        return f"{self.a}-{self.b}:{self.c}.{self.d}.{self.e}*{self.f}"


def parse_obis(text: str) -> Obis:
    """Parse A-B:C.D.E*F; A is 0..15 (the medium), the other groups 0..255."""
    match = _FORM.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an OBIS code of the form A-B:C.D.E*F (e.g. 1-0:1.8.0*255)")
    obis = Obis(*(int(group) for group in match.groups()))
    if obis.a > 15:
        raise ValueError(f"{text!r}: group A (the medium) is 0..15, not {obis.a}")
    for name in "bcdef":
        if getattr(obis, name) > 255:
            raise ValueError(f"{text!r}: group {name.upper()} is 0..255, not {getattr(obis, name)}")
    return obis


def obis_problem(text: str, channel_code: str) -> str | None:
    """Why this OBIS code does not fit an electricity channel code (A+, A-T2, …), or None."""
    try:
        obis = parse_obis(text)
    except ValueError as exc:
        return str(exc)
    base, tariff = channel_code[:2], channel_code[2:]
    if base not in _QUANTITY_BY_C.values():
        return None  # no rule for channels outside the energy registers
    if obis.a != ELECTRICITY_MEDIUM:
        return f"{text}: an electricity channel has medium A = 1, not {obis.a}"
    if _QUANTITY_BY_C.get(obis.c) != base:
        return f"{text}: C = {obis.c} is not {base} (1 A+, 2 A-, 3 R+, 4 R-)"
    if obis.d not in (REGISTER_D, INTERVAL_D):
        return f"{text}: D = {obis.d}; energy channels use 8 (register) or 29 (interval energy)"
    expected_e = int(tariff[1:]) if tariff else 0
    if obis.e != expected_e:
        return f"{text}: E = {obis.e} but channel {channel_code} is tariff {expected_e or 'total (0)'}"
    return None


def default_obis(channel_code: str, *, interval: bool = True) -> str | None:
    """The usual OBIS code of an electricity energy channel, or None for other channels."""
    base, tariff = channel_code[:2], channel_code[2:]
    c = {v: k for k, v in _QUANTITY_BY_C.items()}.get(base)
    if c is None:
        return None
    e = int(tariff[1:]) if tariff else 0
    return str(Obis(ELECTRICITY_MEDIUM, 0, c, INTERVAL_D if interval else REGISTER_D, e, 255))
