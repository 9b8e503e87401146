"""A fast schedule for the tests: periods of seconds, so several pass while two workers run."""

from __future__ import annotations

from egsu.jobs.periods import Every
from egsu.jobs.registry import Periodic

FAST = [
    Periodic("test.every-2s", Every(seconds=2), "tests.jobs.tasks.per_period",
             kwargs={"name": "test.every-2s"}, with_period=True),
    Periodic("test.every-3s", Every(seconds=3), "tests.jobs.tasks.per_period",
             kwargs={"name": "test.every-3s"}, with_period=True),
]  # fmt: skip
