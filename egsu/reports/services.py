"""Exports of what is on screen (issue 5 item 4, AMI-07): direct for small ones, a job for large ones.

Every export is audited (Event.EXPORT) and reads its rows through the gate of the user it is
made for, also when a background worker runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import translation

from egsu.access import audit as audit_log
from egsu.access.audit import Event
from egsu.access.roles import NATIONAL_ROLES, Module
from egsu.access.scope import Scope, require, scope_for
from egsu.jobs.runner import progress as job_progress
from egsu.reports.models import ExportJob
from egsu.reports.pdf import write_pdf
from egsu.reports.tables import BUILDERS, ExportTable
from egsu.reports.xlsx import write_xlsx
from egsu_core.clock import to_astana, utcnow

log = logging.getLogger(__name__)

# Up to this many rows an export is built in the request and downloaded at once; above, a job.
DIRECT_LIMIT = 5000
WRITERS: dict[str, Callable[..., int]] = {"xlsx": write_xlsx, "pdf": write_pdf}
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
# Which modules open the data of each export (one of them), besides the REPORTS module itself.
DATA_MODULES = (Module.OIL_GAS, Module.POWER, Module.HEAT)


def exports_dir() -> Path:
    """Where job files live: settings.EXPORTS_DIR, else var/exports."""
    directory = Path(getattr(settings, "EXPORTS_DIR", None) or settings.CONFIG.var_dir / "exports")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def check_request(scope: Scope, what: str, fmt: str) -> None:
    """An unknown kind or format is a 404; a module not granted is PermissionDenied."""
    if what not in BUILDERS or fmt not in WRITERS:
        raise Http404("no such export")
    require(scope, Module.REPORTS)
    if what == "arrivals":
        require(scope, Module.MONITORING)
    elif not any(scope.has(module) for module in DATA_MODULES):
        require(scope, Module.OIL_GAS)  # refused, naming a module


def build_table(scope: Scope, user, what: str, params: dict, at=None) -> ExportTable:
    return BUILDERS[what](scope, user, params, at)


def file_name(what: str, fmt: str, at) -> str:
    return f"egsu-{what}-{to_astana(at):%Y%m%d-%H%M}.{fmt}"


@dataclass(frozen=True)
class DirectExport:
    content: bytes
    file_name: str
    content_type: str
    rows: int


def start_export(user, scope: Scope, what: str, fmt: str, params: dict, *, request=None):
    """Export the screen: a `DirectExport` when small, else a queued `ExportJob` (run after commit)."""
    check_request(scope, what, fmt)
    at = utcnow()
    table = build_table(scope, user, what, params, at)  # Http404 here for anything out of scope
    if table.row_count <= DIRECT_LIMIT:
        out = BytesIO()
        rows = WRITERS[fmt](table, out)
        name = file_name(what, fmt, at)
        audit_log.audit(Event.EXPORT, actor=user, object_type="export", object_id=name, request=request,
                        summary=f"{what} {fmt}: {rows} rows", after={"what": what, "format": fmt, **params})  # fmt: skip
        return DirectExport(out.getvalue(), name, CONTENT_TYPES[fmt], rows)
    job = ExportJob.objects.create(
        created_by=user, created_at=at, what=what, format=fmt, params=params, rows_total=table.row_count
    )
    audit_log.audit(Event.EXPORT, actor=user, obj=job, request=request,
                    summary=f"{what} {fmt}: {table.row_count} rows, queued", after={"what": what, "format": fmt, **params})  # fmt: skip
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from egsu.reports.tasks import run_export_job

    run_export_job.enqueue(job_id)


def run_export(job_id: int) -> ExportJob:
    """Build a job's file; idempotent (a finished job is left alone), progress saved as it goes."""
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status == ExportJob.Status.DONE:
        return job
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, rows_done=0, error="")
    try:
        scope = scope_for(job.created_by)  # the gate of the user it is made for, checked again now
        check_request(scope, job.what, job.format)
        profile = getattr(job.created_by, "profile", None)
        with translation.override(profile.language if profile else None):  # the creator's language
            _write_job_file(job, scope)
    except Exception as exc:  # recorded on the row for the UI and the CLI; the worker may retry
        log.exception("export job %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:2000], finished_at=utcnow()
        )
    job.refresh_from_db()
    return job


def _write_job_file(job: ExportJob, scope: Scope) -> int:
    table = build_table(scope, job.created_by, job.what, job.params, job.created_at)
    total = table.row_count
    ExportJob.objects.filter(pk=job.pk).update(rows_total=total)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=min(done, total))
        job_progress(min(done, total), total)  # the queue's row too (egsu jobs, the operations page)

    name = f"{job.pk}-{file_name(job.what, job.format, job.created_at)}"
    with (exports_dir() / name).open("wb") as out:
        done = WRITERS[job.format](table, out, progress)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, rows_done=min(done, total), file_name=name, finished_at=utcnow()
    )
    return total


def may_download(scope: Scope, job: ExportJob) -> bool:
    """Only the creator, or the authorized body / data operator, may fetch a job's file."""
    return job.created_by_id == scope.user_id or scope.role in NATIONAL_ROLES


def job_path(job: ExportJob) -> Path:
    return exports_dir() / job.file_name


def export_to_file(
    user, what: str, fmt: str, params: dict, out: BinaryIO | Path, *, source: str = "cli"
) -> int:
    """For the CLI and scheduled reports: the same export, through the same gate, audited. Returns rows."""
    scope = scope_for(user)
    check_request(scope, what, fmt)
    at = utcnow()
    table = build_table(scope, user, what, params, at)
    if isinstance(out, Path):
        with out.open("wb") as stream:
            rows = WRITERS[fmt](table, stream)
    else:
        rows = WRITERS[fmt](table, out)
    audit_log.audit(Event.EXPORT, actor=user, object_type="export", object_id=file_name(what, fmt, at),
                    source=source, summary=f"{what} {fmt}: {rows} rows", after={"what": what, "format": fmt, **params})  # fmt: skip
    return rows
