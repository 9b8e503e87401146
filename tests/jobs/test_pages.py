"""The operations pages (background jobs, outgoing mail): the authorization matrix, what they show, and
a failed job or message sent again (audited; refused roles change nothing)."""

from __future__ import annotations

import pytest

from egsu.access.models import AuditEvent
from egsu.access.roles import Role
from egsu.jobs.models import Job, Worker
from egsu.mail.models import Mail
from egsu_core.clock import utcnow
from tests.cabinet.conftest import ROLES

MANAGERS = {Role.AUTHORITY, Role.OPERATOR}


def _refused(response, role) -> bool:
    if role == "anonymous":
        return response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    return response.status_code == 403


@pytest.fixture
def failed(world):
    now = utcnow()
    job = Job.objects.create(task_path="egsu.jobs.tasks.prune", status="FAILED", attempts=3, max_attempts=3,
                             run_after=now, enqueued_at=now, finished_at=now, error="OperationalError: disk full")  # fmt: skip
    mail = Mail.objects.create(recipient="duty@energo.gov.kz", subject="Alarm: feed stopped", language="ru",
                               body="…", sender="egsu@localhost", message_id="<1@egsu>", status="failed",
                               attempts=12, last_error="ConnectionRefusedError: [Errno 111]", next_try_at=now,
                               created_at=now)  # fmt: skip
    Worker.objects.create(worker_id="host:1:abc", hostname="host", pid=1, queues="*", schedules=True,
                          started_at=now, last_seen_at=now)  # fmt: skip
    return job, mail


def _state(job, mail) -> tuple:
    job.refresh_from_db()
    mail.refresh_from_db()
    return (
        job.status,
        mail.status,
        AuditEvent.objects.filter(event__in=["jobs.retried", "mail.retried"]).count(),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ["/cabinet/operations/jobs/", "/cabinet/operations/mail/?status=failed"],
                         ids=["jobs", "mail"])  # fmt: skip
def test_the_operations_pages_matrix(client_for, failed, role, url):
    response = client_for(role).get(url)
    if role in MANAGERS:
        body = response.content.decode()
        assert response.status_code == 200
        if "jobs" in url:
            assert "egsu.jobs.tasks.prune" in body and "OperationalError: disk full" in body
            assert "journal.retention" in body and "host:1:abc" in body
        else:
            assert "duty@energo.gov.kz" in body and "ConnectionRefusedError" in body
            assert "1 message could not be delivered." in body
    else:
        assert _refused(response, role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("what", ["job", "mail"])
def test_sending_again_is_for_managers_only_and_audited(client_for, world, failed, role, what, settings):
    settings.TASKS = {"default": {"BACKEND": "egsu.jobs.backend.QueueBackend", "QUEUES": []}}  # no inline run
    job, mail = failed
    before = _state(job, mail)
    url = (
        f"/cabinet/operations/jobs/{job.pk}/retry/"
        if what == "job"
        else f"/cabinet/operations/mail/{mail.pk}/retry/"
    )
    response = client_for(role).post(url)
    if role in MANAGERS:
        assert response.status_code == 302
        status = _state(job, mail)
        assert status == (("READY", "failed", 1) if what == "job" else ("FAILED", "pending", 1))
        event = AuditEvent.objects.get(event=f"{'jobs' if what == 'job' else 'mail'}.retried")
        assert event.actor == world.users[role]
    else:
        assert _refused(response, role)
        assert _state(job, mail) == before


def test_the_menu_shows_the_operations_pages_to_managers_only(client_for, world):
    assert "/cabinet/operations/jobs/" in client_for(Role.OPERATOR).get("/cabinet/").content.decode()
    assert "/cabinet/operations/mail/" not in client_for(Role.SUBJECT).get("/cabinet/").content.decode()
