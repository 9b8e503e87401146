"""A demo head-end for `make demo`: a utility's head-end system with a few meters and its bearer token.

The first demo subject (the one whose system the demo sends for) is the utility; its meters sit on
one transformer point in its region. Idempotent: re-running keeps the meters and rotates the token
(only ever known when made), so the manifest written afterwards is always right.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from egsu.ami import services
from egsu.ami.models import HeadEndSystem, Meter, MeteringObject
from egsu.registry.models import Subject

HEAD_END = "demo-hes"
OBJECT_CODE = "DEMO-TP-1"
CHANNELS = ("A+", "A-")
# (serial number, personal account)
METERS = [("DEMO-E-0001", "DEMO-ACC-1"), ("DEMO-E-0002", "DEMO-ACC-2"), ("DEMO-E-0003", "DEMO-ACC-3")]


@transaction.atomic
def load_demo_head_end(utility: Subject, *, base: str) -> dict:
    """The manifest's `ami` part: {endpoint, token, head_end, meters: [{serial, account, channels}]}."""
    head_end = HeadEndSystem.objects.filter(name=HEAD_END).first()
    if head_end is None:
        head_end, token = services.create_head_end(HEAD_END, utility)
    else:
        head_end.subject, head_end.active = utility, True
        head_end.save(update_fields=["subject", "active"])
        token = services.rotate_token(head_end, source="egsu demo")
    place, _ = MeteringObject.objects.update_or_create(
        code=OBJECT_CODE,
        defaults={"kind": MeteringObject.Kind.TRANSFORMER_POINT, "name": "Demo transformer point 1",
                  "region": utility.region, "subject": utility, "active": True},
    )  # fmt: skip
    known = set(Meter.objects.filter(subject=utility, serial_number__in=[s for s, _ in METERS]).values_list(
        "serial_number", flat=True))  # fmt: skip
    new = [
        Meter(subject=utility, metering_object=place, energy="electricity", meter_type="1P", model="Demo CE-102",
              serial_number=serial, account=account, address=f"Demo street {n + 1}", counterparty="Demo consumer",
              verified_on=date(2025, 1, 1), verification_due=date(2041, 1, 1))
        for n, (serial, account) in enumerate(METERS) if serial not in known
    ]  # fmt: skip
    if new:
        services.register_meters(new, CHANNELS, source="egsu demo")
    return {
        "endpoint": f"{base}/api/ami/v1/batches",
        "token": token,
        "head_end": head_end.name,
        "meters": [
            {"serial": serial, "account": account, "channels": list(CHANNELS)} for serial, account in METERS
        ],
    }
