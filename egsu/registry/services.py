"""Registry services: sender authentication, service rights and the fixed reference dictionaries."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict

from django.conf import settings
from django.contrib.auth.hashers import check_password as _check_hash
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Exists, OuterRef

from egsu.registry.models import ConnectedSystem, DeviceType, OperationType, Service
from egsu_core.isun.tables import DEVICE_TYPES, OPERATION_TYPES

# A10 (requirements §18): the order spells the key both ways; both reach the same intake.
SEEDED_SERVICES = {
    "ISUN_Service2": "ISUN oil and gas data (SendMessage)",
    "ISUN_Service": "ISUN oil and gas data (SendMessage), alternative key",
}

_CACHE_SIZE = 1024
_verified: OrderedDict[tuple[str, str, str], None] = OrderedDict()
_verified_lock = threading.Lock()
_dummy_hash: str | None = None


def _password_digest(password: str) -> str:
    """A keyed digest so the cache never holds anything a memory dump could turn back into the password."""
    return hmac.new(settings.SECRET_KEY.encode(), password.encode(), hashlib.sha256).hexdigest()


def _burn_time(password: str) -> None:
    """Spend what a real check costs, so an unknown login cannot be told apart by timing (SCE002)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = make_password("egsu-dummy-password")
    _check_hash(password, _dummy_hash)


def system_for_sender(sender_id: str, service_id: str | None = None) -> ConnectedSystem | None:
    """The active connected system a message claims to come from, before its password is checked.

    Only its signature settings are read from it; nothing is trusted until authenticate_sender.
    With `service_id`, whether it is granted that active service is read in the same query, for
    `system_may_call` to answer without one of its own (a round trip less per message at the gateway).
    """
    systems = ConnectedSystem.objects.select_related("subject").filter(
        sender_id=sender_id, active=True, subject__active=True
    )
    if service_id is not None:
        granted = ConnectedSystem.services.through.objects.filter(
            connectedsystem_id=OuterRef("pk"), service__service_id=service_id, service__active=True
        )
        systems = systems.annotate(granted=Exists(granted))
    system = systems.first()
    if system is not None and service_id is not None:
        system.granted_service = (service_id, system.granted)
    return system


def authenticate_sender(
    sender_id: str,
    password: str | None,
    *,
    claimed: ConnectedSystem | None = None,
    service_id: str | None = None,
) -> ConnectedSystem | None:
    """The active connected system with these credentials, or None (SCE002).

    PBKDF2 costs tens of milliseconds by design; a repeat of a successful check is answered
    from an in-process cache keyed by (login, HMAC of the password, stored hash), so a
    password change or a deactivation takes effect on the very next message. ``claimed``: the
    row ``system_for_sender`` just read for this same message, so that it is not read twice;
    ``service_id``: the service the message asks for (read with the system, see there).
    """
    if claimed is not None and claimed.sender_id == sender_id:
        system = claimed
    else:
        system = system_for_sender(sender_id, service_id)
    if not password:
        _burn_time("")
        return None
    if system is None:
        _burn_time(password)
        return None
    key = (sender_id, _password_digest(password), system.password_hash)
    with _verified_lock:
        if key in _verified:
            _verified.move_to_end(key)
            return system
    if not system.check_password(password):
        return None
    with _verified_lock:
        _verified[key] = None
        while len(_verified) > _CACHE_SIZE:
            _verified.popitem(last=False)
    return system


def password_known(sender_id: str, password: str | None) -> bool:
    """Did this process already verify exactly this password for this sender (no hashing, no query)?

    Lets a locked-out sender's real system through (egsu.intake.limits) while new guesses are refused.
    """
    if not password:
        return False
    digest = _password_digest(password)
    with _verified_lock:
        return any(key[0] == sender_id and key[1] == digest for key in _verified)


def clear_authentication_cache() -> None:
    with _verified_lock:
        _verified.clear()


def system_may_call(system: ConnectedSystem, service_id: str) -> bool:
    """SCE003: the system is granted this (active) service (as read with the system when it was)."""
    known = getattr(system, "granted_service", None)
    if known is not None and known[0] == service_id:
        return known[1]
    return system.services.filter(service_id=service_id, active=True).exists()


def service_exists(service_id: str) -> bool:
    """SCE004: the service key is one the System answers."""
    return Service.objects.filter(service_id=service_id, active=True).exists()


def load_dictionaries(
    *, device_type_model=DeviceType, operation_type_model=OperationType, service_model=Service
) -> dict:
    """Make the fixed dictionaries match egsu_core.isun.tables (FMT-06, FMT-07) and seed the services; idempotent.

    The data migration passes its historical models; everything else calls it bare.
    Services are only created, never overwritten, because the operator may rename or deactivate them.
    """
    counts = {"device_types": 0, "operation_types": 0, "services": 0}
    with transaction.atomic():
        for code, (name_en, name_kk) in DEVICE_TYPES.items():
            _, created = device_type_model.objects.update_or_create(
                id=code, defaults={"name_en": name_en, "name_kk": name_kk}
            )
            counts["device_types"] += created
        for code, (name_en, name_kk, kinds) in OPERATION_TYPES.items():
            _, created = operation_type_model.objects.update_or_create(
                id=code, defaults={"name_en": name_en, "name_kk": name_kk, "kinds": ",".join(sorted(kinds))}
            )
            counts["operation_types"] += created
        for service_id, name in SEEDED_SERVICES.items():
            _, created = service_model.objects.get_or_create(service_id=service_id, defaults={"name": name})
            counts["services"] += created
    return counts
