"""`egsu worker`, `egsu scheduler` and `egsu jobs …`: run the queue and look into it (docs/jobs.md).

Django is set up by the caller (egsu.cli) before this module is imported.
"""

from __future__ import annotations

import typer
from rich.table import Table

from egsu.cli import options
from egsu.jobs import services
from egsu.jobs.models import Job, Worker
from egsu.jobs.registry import load_schedule
from egsu.jobs.worker import WorkerProcess
from egsu_core.clock import format_astana

app = typer.Typer(help="Background jobs: list, show, retry; workers and periodic jobs.", no_args_is_help=True)

SCHEDULE_HELP = "The periodic jobs to schedule, as module:NAME (tests and drills use their own)."
DEFAULT_SCHEDULE = "egsu.jobs.schedule:SCHEDULE"


def _queues(text: str) -> list[str] | None:
    names = [q.strip() for q in text.split(",") if q.strip()]
    return None if not names or "*" in names else names


def worker(
    queues: str = typer.Option("*", "--queues", help="Comma-separated queues to run (default: all)."),
    once: bool = typer.Option(False, "--once", help="Run what is ready now, then exit."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, max=32, help="Jobs run at the same time."),
    schedule: bool = typer.Option(False, "--schedule", help="Also queue periodic jobs (safe with several)."),
    schedule_from: str = typer.Option(DEFAULT_SCHEDULE, "--schedule-from", help=SCHEDULE_HELP),
    grace: float = typer.Option(30.0, "--grace", help="Seconds running jobs get to finish when stopped."),
) -> None:
    """Run background jobs from the queue until stopped (Ctrl-C: finish running jobs; twice: now)."""
    process = WorkerProcess(
        queues=_queues(queues), concurrency=concurrency, once=once, grace=grace,
        schedule=load_schedule(schedule_from) if schedule else None,
    )  # fmt: skip
    raise typer.Exit(process.run())


def scheduler(
    once: bool = typer.Option(False, "--once", help="Queue what is due now, then exit."),
    schedule_from: str = typer.Option(DEFAULT_SCHEDULE, "--schedule-from", help=SCHEDULE_HELP),
) -> None:
    """Queue each periodic job once per period (any number of schedulers may run; one queues each period)."""
    process = WorkerProcess(concurrency=0, once=once, schedule=load_schedule(schedule_from))
    raise typer.Exit(process.run())


@app.command("list")
def list_jobs(
    status: str | None = typer.Option(None, "--status", help="READY, RUNNING, SUCCESSFUL or FAILED."),
    limit: int = typer.Option(50, "--limit", min=1),
) -> None:
    """Jobs, newest first, with their status and progress."""
    jobs = Job.objects.all()
    if status:
        if status.upper() not in Job.Status.values:
            raise typer.BadParameter(f"use one of {', '.join(Job.Status.values)}", param_hint="--status")
        jobs = jobs.filter(status=status.upper())
    table = Table("id", "task", "queue", "status", "attempts", "progress", "queued (Astana)", "worker")
    for job in jobs[:limit]:
        done = f"{job.progress_done}/{job.progress_total}" if job.progress_total else ""
        table.add_row(str(job.pk), job.task_path, job.queue, job.status, f"{job.attempts}/{job.max_attempts}",
                      done, format_astana(job.enqueued_at), job.worker)  # fmt: skip
    options.console().print(table)


@app.command()
def show(job_id: int = typer.Argument(..., help="Job id.")) -> None:
    """One job: arguments, attempts, progress, result or last error."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        typer.echo(f"no job {job_id}", err=True)
        raise typer.Exit(1)
    for name, value in (
        ("id", job.pk), ("task", job.task_path), ("queue", job.queue), ("status", job.status),
        ("arguments", f"{job.args} {job.kwargs}"), ("attempts", f"{job.attempts} of {job.max_attempts}"),
        ("queued", format_astana(job.enqueued_at)), ("not before", format_astana(job.run_after)),
        ("started", format_astana(job.started_at) if job.started_at else ""),
        ("finished", format_astana(job.finished_at) if job.finished_at else ""),
        ("worker", job.worker), ("progress", f"{job.progress_done}/{job.progress_total} {job.progress_note}"),
        ("result", "" if job.result is None else job.result),
    ):  # fmt: skip
        typer.echo(f"{name + ':':<12}{value}")
    if job.error:
        typer.echo("last error:\n" + job.error)


@app.command()
def retry(job_id: int = typer.Argument(..., help="Id of a failed job.")) -> None:
    """Queue a failed job once more (audited)."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        typer.echo(f"no job {job_id}", err=True)
        raise typer.Exit(1)
    try:
        services.retry(job, source="egsu jobs retry")
    except services.NotRetriable as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"job {job_id} queued again")


@app.command()
def workers() -> None:
    """Worker and scheduler processes, with their last heartbeat."""
    alive = set(services.live_workers().values_list("pk", flat=True))
    table = Table("worker", "queues", "schedules", "started (Astana)", "last seen (Astana)", "jobs", "state")
    for row in Worker.objects.all()[:100]:
        state = "stopped" if row.stopped_at else "alive" if row.pk in alive else "silent"
        table.add_row(row.worker_id, row.queues or "-", "yes" if row.schedules else "", format_astana(row.started_at),
                      format_astana(row.last_seen_at), str(row.jobs_done), state)  # fmt: skip
    options.console().print(table)


@app.command()
def periodic(
    schedule_from: str = typer.Option(DEFAULT_SCHEDULE, "--schedule-from", help=SCHEDULE_HELP),
) -> None:
    """The periodic jobs: schedule, last period queued and how its job ended."""
    runs = services.last_runs()
    table = Table("name", "schedule", "task", "last period (Astana)", "job", "status")
    for entry in load_schedule(schedule_from):
        run = runs.get(entry.name)
        table.add_row(
            entry.name, entry.schedule.describe(), entry.task,
            format_astana(run.period_start) if run else "never",
            str(run.job_id or "") if run else "", run.job.status if run and run.job else "",
        )  # fmt: skip
    options.console().print(table)


@app.command()
def health() -> None:
    """Are workers and a scheduler alive, how deep is the queue (exit 1 when no worker or scheduler lives)."""
    state = services.health()
    for name, value in (
        ("workers alive", state.workers_alive), ("schedulers alive", state.schedulers_alive),
        ("ready jobs", state.ready), ("running jobs", state.running), ("failed in 24 h", state.failed_last_day),
        ("oldest ready", f"{state.oldest_ready_age_s:.0f} s" if state.oldest_ready_age_s is not None else "-"),
        ("last heartbeat job", format_astana(state.last_heartbeat_job_at) if state.last_heartbeat_job_at else "never"),
    ):  # fmt: skip
        typer.echo(f"{name + ':':<20}{value}")
    raise typer.Exit(0 if state.ok else 1)
