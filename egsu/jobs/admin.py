"""Read-only views of the queue for the administrator (changes go through `egsu jobs` and the cabinet)."""

from django.contrib import admin

from egsu.admin_views import ViewOrDeleteAdmin
from egsu.jobs.models import Job, PeriodicRun, Worker


@admin.register(Job)
class JobAdmin(ViewOrDeleteAdmin):
    list_display = ("pk", "task_path", "queue", "status", "attempts", "worker", "enqueued_at", "finished_at")
    list_filter = ("status", "queue")
    search_fields = ("task_path", "worker")


@admin.register(PeriodicRun)
class PeriodicRunAdmin(ViewOrDeleteAdmin):
    list_display = ("name", "period_start", "scheduled_at", "scheduled_by", "job")
    list_filter = ("name",)


@admin.register(Worker)
class WorkerAdmin(ViewOrDeleteAdmin):
    list_display = ("worker_id", "hostname", "pid", "queues", "schedules", "last_seen_at", "stopped_at")
