"""The readings app's periodic job: claimed rows that a dead or failed writer left, inserted (ADR 0013)."""

from __future__ import annotations

from egsu.jobs.registry import job


@job(max_attempts=1)
def recover_claims() -> dict | None:
    """Every writer recovers before its writes (at most every 10 s); this does it when nobody writes."""
    from egsu.readings.upkeep import recover

    return recover(source="periodic job readings.recover-claims")
