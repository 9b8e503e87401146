"""How jobs are declared: `@job(...)` for a background job, `Periodic(...)` for a line of the schedule.

A job is a plain django-tasks Task (`.enqueue(*ids)` queues it), with our retry policy beside it.
The periodic jobs themselves are listed in one place, egsu/jobs/schedule.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils.module_loading import import_string
from django_tasks import DEFAULT_TASK_QUEUE_NAME, task
from django_tasks.base import Task

from egsu.jobs.periods import Schedule


@dataclass(frozen=True)
class JobOptions:
    max_attempts: int = 3  # a raised exception (or a worker that died) is retried up to this many runs
    retry_after: timedelta = timedelta(seconds=30)  # doubled after each failed attempt, at most an hour


DEFAULT_OPTIONS = JobOptions()
_OPTIONS: dict[str, JobOptions] = {}


def job(
    *, queue: str = DEFAULT_TASK_QUEUE_NAME, priority: int = 0, max_attempts: int = 3,
    retry_after: timedelta = timedelta(seconds=30),
) -> Callable[[Callable], Task]:  # fmt: skip
    """Declare a background job: a module-level function taking ids (JSON values), idempotent."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def declare(function: Callable) -> Task:
        declared = task(priority=priority, queue_name=queue)(function)
        _OPTIONS[declared.module_path] = JobOptions(max_attempts=max_attempts, retry_after=retry_after)
        return declared

    return declare


def options_for(task_path: str) -> JobOptions:
    return _OPTIONS.get(task_path, DEFAULT_OPTIONS)


@dataclass(frozen=True)
class Periodic:
    """name → schedule → task. The task is named by its dotted path, resolved when the scheduler runs.

    With `with_period`, the task is called with `period_start=` (ISO 8601, UTC) of the period it
    runs for, e.g. a daily digest of that day.
    """

    name: str
    schedule: Schedule
    task: str
    kwargs: dict = field(default_factory=dict)
    with_period: bool = False

    def resolve(self) -> Task:
        found = import_string(self.task)
        if not isinstance(found, Task):
            raise TypeError(f"periodic job {self.name!r}: {self.task} is not a task (declare it with @job)")
        return found


def check_schedule(schedule: Iterable[Periodic]) -> list[Periodic]:
    """Unique names, every task importable: a broken schedule fails at start, not at 02:30."""
    entries = list(schedule)
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            raise ValueError(f"periodic job {entry.name!r} is declared twice")
        if len(entry.name) > 80:
            raise ValueError(f"periodic job name {entry.name!r} is longer than 80 characters")
        seen.add(entry.name)
        entry.resolve()
    return entries


def load_schedule(path: str = "egsu.jobs.schedule.SCHEDULE") -> list[Periodic]:
    """The schedule at `module.NAME` (or `module:NAME`), checked."""
    return check_schedule(import_string(path.replace(":", ".")))
