"""The demo stand's part for alarms: a head-end with a few meters to post events for, the demo
reader subscribed to critical alarms at once, and what stand.json says about both."""

from __future__ import annotations

from datetime import date

from egsu.alarms.models import Subscription

DEMO_HEAD_END = "demo-hes"
DEMO_OBJECT = "DEMO-TP-1"
DEMO_METERS = ("DEMO-E-0001", "DEMO-E-0002", "DEMO-E-0003")


def load_demo_alarms(subject, reader, base_url: str) -> dict:
    """Create (or refresh) the demo head-end and meters; a new token each start (only its hash is kept)."""
    from egsu.ami import services
    from egsu.ami.models import HeadEndSystem, Meter, MeteringObject

    head_end = HeadEndSystem.objects.filter(name=DEMO_HEAD_END).first()
    if head_end is None:
        head_end, token = services.create_head_end(DEMO_HEAD_END, subject)
    else:
        token = services.rotate_token(head_end, source="egsu demo")
    obj, _ = MeteringObject.objects.get_or_create(
        code=DEMO_OBJECT, defaults={"kind": "transformer_point", "name": "Demo transformer point", "region": subject.region}
    )  # fmt: skip
    known = set(
        Meter.objects.filter(subject=subject, serial_number__in=DEMO_METERS).values_list(
            "serial_number", flat=True
        )
    )
    fresh = [
        Meter(subject=subject, metering_object=obj, energy="electricity", meter_type="3P-DC", model="Demo meter",
              serial_number=serial, verified_on=date(2024, 1, 1), verification_due=date(2032, 1, 1))
        for serial in DEMO_METERS if serial not in known
    ]  # fmt: skip
    if fresh:
        services.register_meters(fresh, ("A+", "A-", "R+", "R-"), source="egsu demo")
    Subscription.objects.update_or_create(user=reader, defaults={"severity": "critical", "delivery": "immediate",
                                                                 "active": True})  # fmt: skip
    return {
        "ami": {"endpoint": f"{base_url}/api/ami/v1/batches", "headEnd": DEMO_HEAD_END, "token": token,
                "meters": list(DEMO_METERS)},
        "alarms": {"page": f"{base_url}/cabinet/alarms/", "api": f"{base_url}/api/v1/alarms",
                   "notices": f"{base_url}/api/v1/notices", "subscriber": reader.email},
    }  # fmt: skip
