"""A large export goes through the real queue: the page waits ("queued"), a real `egsu worker` process
builds the file, the progress JSON reaches 100 % and the file downloads."""

from __future__ import annotations

from egsu.access.roles import Role
from egsu.jobs.models import Job
from egsu.reports import services
from egsu.reports.models import ExportJob
from tests.jobs.conftest import wait_for
from tests.reports.helpers import xlsx_blocks

PERIOD = {"start": "2025-06-01", "end": "2025-06-03", "interval": "PT2H"}


def test_a_background_export_is_built_by_a_worker_process(
    workers, world, client_for, settings, monkeypatch, tmp_path
):
    # given exports that always go to the queue, and the worker's exports folder shared with the web side
    monkeypatch.setattr(services, "DIRECT_LIMIT", 0)
    settings.EXPORTS_DIR = tmp_path / "var" / "exports"
    client = client_for(Role.SUBJECT)
    # when the subject starts an export of its device
    response = client.post("/cabinet/exports/new/", {"what": "readings", "format": "xlsx", **PERIOD,
                                                     "device": world.own_device.pk})  # fmt: skip
    export = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cabinet/exports/{export.pk}/"
    # then, with no worker yet, the page shows it queued and keeps polling
    status_url = f"/cabinet/exports/{export.pk}/status.json"
    assert client.get(status_url).json()["status"] == "queued"
    page = client.get(response["Location"]).content.decode()
    assert "reports/job.js" in page and '<progress id="export-progress"' in page
    # when a worker process runs, the status reaches done at 100 %
    workers.start("worker")
    done = wait_for(lambda: (s := client.get(status_url).json())["status"] == "done" and s, timeout=60,
                    what="the export to finish", logs=workers.logs)  # fmt: skip
    assert (done["percent"], done["rows_done"], done["rows_total"]) == (100, 72, 72)
    assert done["download_url"] == f"/cabinet/exports/{export.pk}/download/"
    # and the file is there with every row; the queue's row recorded the same progress
    _, data, _ = xlsx_blocks(b"".join(client.get(done["download_url"]).streaming_content))
    assert len(data) == 72
    job = Job.objects.get(task_path="egsu.reports.tasks.run_export_job")
    assert (job.status, job.args, job.progress_done, job.progress_total) == (
        "SUCCESSFUL",
        [export.pk],
        72,
        72,
    )
