"""Periodic watches of the schemes app (egsu.jobs.schedule): deadlines, verification, replacement, equipping."""

from __future__ import annotations

from egsu.jobs.registry import job


@job(max_attempts=3)
def watch_review_deadlines() -> int:
    from egsu.schemes.services import watch_deadlines

    return watch_deadlines()


@job(max_attempts=3)
def watch_metrology() -> dict:
    from egsu.schemes import registers

    return {
        "verification_overdue": registers.watch_verifications(),
        "replacement_overdue": registers.watch_replacements(),
        "equipping_overdue": registers.watch_obligations(),
    }
