"""The publishing job (periodic, daily): every data set again from the complete months."""

from __future__ import annotations

from egsu.jobs.registry import job
from egsu.opendata import services


@job(max_attempts=3)
def publish() -> int:
    return sum(p.rows for p in services.publish_all())
