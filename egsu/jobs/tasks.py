"""The jobs app's own periodic jobs: the heartbeat and the pruning of old job history."""

from __future__ import annotations

from egsu.jobs import services
from egsu.jobs.registry import job
from egsu_core.clock import utcnow


@job(max_attempts=1)
def heartbeat() -> str:
    """Proves the scheduler ticks and a worker runs jobs: its finish time is what readiness reads."""
    return utcnow().isoformat()


@job()
def prune() -> dict:
    return services.prune_history(source="periodic job jobs.prune")
