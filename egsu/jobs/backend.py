"""The django-tasks backend of EGSU: `task.enqueue(...)` writes a row of the durable queue (decision 0007).

OPTIONS: {"INLINE": True} runs each job in the calling process at once, through the same claim,
run and settle path a worker uses (the tests' default; never for production, where `egsu worker`
processes run the queue).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult
from django_tasks.exceptions import TaskResultDoesNotExist
from django_tasks.signals import task_enqueued
from django_tasks.utils import normalize_json

from egsu.jobs import runner
from egsu.jobs.models import Job
from egsu.jobs.registry import options_for
from egsu.jobs.results import result_of
from egsu_core.clock import utcnow


class QueueBackend(BaseTaskBackend):
    supports_defer = True
    supports_priority = True
    supports_get_result = True
    supports_async_task = False

    def enqueue(self, task: Task, args, kwargs) -> TaskResult:
        self.validate_task(task)
        now = utcnow()
        job = Job.objects.create(
            task_path=task.module_path,
            queue=task.queue_name,
            priority=task.priority,
            args=normalize_json(list(args)),
            kwargs=normalize_json(dict(kwargs)),
            run_after=task.run_after or now,
            enqueued_at=now,
            max_attempts=options_for(task.module_path).max_attempts,
        )
        if self.options.get("INLINE"):
            claimed = runner.claim_job(job.pk, "inline", timedelta(seconds=settings.CONFIG.jobs_lease_s))
            if claimed is not None:
                runner.execute(claimed)
            job.refresh_from_db()
        result = result_of(job, task, self.alias)
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult:
        job = Job.objects.filter(pk=int(result_id) if str(result_id).isdigit() else None).first()
        if job is None:
            raise TaskResultDoesNotExist(result_id)
        return result_of(job, backend=self.alias)
