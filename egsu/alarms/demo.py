"""The demo stand's part for alarms: the demo reader subscribed to critical alarms at once, and what
stand.json says about the alarms page, API and notices."""

from __future__ import annotations

from egsu.alarms.models import Subscription


def load_demo_alarms(reader, base_url: str) -> dict:
    """Subscribe the demo reader to critical alarms at once; the head-end and meters to post events
    for are the demo head-end's (`egsu.ami.demo`, the manifest's `ami` part)."""
    Subscription.objects.update_or_create(user=reader, defaults={"severity": "critical", "delivery": "immediate",
                                                                 "active": True})  # fmt: skip
    return {
        "alarms": {"page": f"{base_url}/cabinet/alarms/", "api": f"{base_url}/api/v1/alarms",
                   "notices": f"{base_url}/api/v1/notices", "subscriber": reader.email},
    }  # fmt: skip
