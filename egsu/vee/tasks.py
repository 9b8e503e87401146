"""The periodic data-quality job: the rules over the values of the last days (schedule: vee.rules)."""

from __future__ import annotations

from dataclasses import asdict

from egsu.jobs.registry import job
from egsu.vee import services


@job(max_attempts=2)
def run_rules() -> dict:
    return asdict(services.run_recent())
