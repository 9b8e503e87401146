"""Read-only views of the queue for the administrator (changes go through `egsu jobs` and the cabinet)."""

from django.contrib import admin

from egsu.jobs.models import Job, PeriodicRun, Worker


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(ReadOnly):
    list_display = ("pk", "task_path", "queue", "status", "attempts", "worker", "enqueued_at", "finished_at")
    list_filter = ("status", "queue")
    search_fields = ("task_path", "worker")


@admin.register(PeriodicRun)
class PeriodicRunAdmin(ReadOnly):
    list_display = ("name", "period_start", "scheduled_at", "scheduled_by", "job")
    list_filter = ("name",)


@admin.register(Worker)
class WorkerAdmin(ReadOnly):
    list_display = ("worker_id", "hostname", "pid", "queues", "schedules", "last_seen_at", "stopped_at")
