"""App.1-SB Table 1 as data: the application's fields in order, by section (the passwords and the
transport certificate are kept apart: hashed, and as a certificate). Django-free."""

from __future__ import annotations

from dataclasses import dataclass


def gettext_noop(text: str) -> str:
    return text


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    section: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str = ""


CLIENT = gettext_noop("Service client")
PERSON = gettext_noop("Responsible person")
SYSTEM = gettext_noop("Information system of the service client")
VPN = gettext_noop("VPN tunnel data")

FIELDS: tuple[Field, ...] = (
    Field("grounds", gettext_noop("Grounds for connection"), CLIENT, True),
    Field("phone", gettext_noop("Contact phone"), PERSON, True),
    Field("email", gettext_noop("Email"), PERSON, True),
    Field("is_name", gettext_noop("Information system name"), SYSTEM, True),
    Field("login", gettext_noop("System login"), SYSTEM, True),
    Field("test_ip", gettext_noop("System IP address (test)"), SYSTEM, True),
    Field("test_port", gettext_noop("System port (test)"), SYSTEM, True),
    Field("production_ip", gettext_noop("System IP address (production)"), SYSTEM),
    Field("production_port", gettext_noop("System port (production)"), SYSTEM),
    Field("test_protocol", gettext_noop("Protocol (test)"), SYSTEM, True, ("TCP",), "TCP"),
    Field("production_protocol", gettext_noop("Protocol (production)"), SYSTEM, True, ("TCP",), "TCP"),
    Field("contour", gettext_noop("Interaction contour"), SYSTEM, True, ("outside", "inside"), "outside"),
    Field("vpn", gettext_noop("Is there a VPN tunnel for this system?"), SYSTEM, True, ("no", "yes"), "no"),
    Field("vpn_gateway", gettext_noop("VPN gateway information"), VPN),
    Field("vpn_mode", gettext_noop("Tunnel mode"), VPN, False, ("tunnel", "transport"), "tunnel"),
    Field("vpn_peer_ip", gettext_noop("Public peer IP address"), VPN),
    Field(
        "phase1",
        gettext_noop("Phase 1: authentication, IKE version, DH group, cipher, hash, lifetime"),
        VPN,
        default="PSK, IKEv2, Group 14, AES-256, SHA256, 86400",
    ),  # fmt: skip
    Field(
        "phase2",
        gettext_noop("Phase 2: encapsulation, cipher, hash, PFS group, lifetime"),
        VPN,
        default="ESP, AES-256, SHA256, Group 14, 86400",
    ),  # fmt: skip
)
SERVICE_KEY = (
    "ISUN_Service2"  # filled automatically (the service card's key; Table 1 prints "ISUN_Service 2")
)


def problems(values: dict[str, str]) -> list[tuple[str, str]]:
    """(field code, English message) for every required field missing or value out of its choices."""
    found = []
    for field in FIELDS:
        value = (values.get(field.code) or "").strip()
        if field.required and not value:
            found.append((field.code, gettext_noop("This field is required.")))
        elif value and field.choices and value not in field.choices:
            found.append((field.code, gettext_noop("Choose one of the offered values.")))
    if (values.get("test_port") or "").strip() and not values["test_port"].strip().isdigit():
        found.append(("test_port", gettext_noop("A port is a number.")))
    return found
