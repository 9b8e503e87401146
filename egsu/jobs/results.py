"""A job row seen as a django-tasks TaskResult (what `task.enqueue()` and `get_result()` return)."""

from __future__ import annotations

from django.utils.module_loading import import_string
from django_tasks.base import Task, TaskError, TaskResult, TaskResultStatus

from egsu.jobs.models import Job


def result_of(job: Job, task: Task | None = None, backend: str = "default") -> TaskResult:
    task = task if task is not None else import_string(job.task_path)
    errors = []
    if job.error:
        errors.append(TaskError(exception_class_path="builtins.Exception", traceback=job.error))
    result = TaskResult(
        task=task,
        id=str(job.pk),
        status=TaskResultStatus[job.status],
        enqueued_at=job.enqueued_at,
        started_at=job.started_at,
        last_attempted_at=job.started_at,
        finished_at=job.finished_at,
        args=list(job.args),
        kwargs=dict(job.kwargs),
        backend=backend,
        errors=errors,
        worker_ids=[job.worker] if job.worker else [],
    )
    object.__setattr__(result, "_return_value", job.result)
    return result
