"""An `egsu worker` (or `egsu scheduler`) process: runner threads, a heartbeat, optionally a scheduler.

Any number of these may run on any number of servers sharing the database. The heartbeat thread
keeps the process's Worker row and the leases of its running jobs fresh; when it stops (the
process was killed), the leases run out and any worker puts those jobs back in the queue.

Stopping: the first SIGINT/SIGTERM lets running jobs finish (at most `grace` seconds); a second
signal, or the end of the grace time, hands them back to the queue at once and exits.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import F

from egsu.jobs import runner, scheduler
from egsu.jobs.models import Worker
from egsu.jobs.registry import Periodic
from egsu_core.clock import utcnow

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class WorkerProcess:
    queues: list[str] | None = None  # None: every queue
    concurrency: int = 1  # runner threads; 0 for a scheduler-only process
    schedule: list[Periodic] | None = None  # given: this process also schedules periodic jobs
    once: bool = False  # run what is ready now (and schedule what is due now), then exit
    grace: float = 30.0
    worker_id: str = field(default_factory=new_worker_id)

    def __post_init__(self) -> None:
        self.stop = threading.Event()
        self.forced = threading.Event()
        self.finished = threading.Event()  # the heartbeat runs until the very end (grace time included)
        config = settings.CONFIG
        self.lease = timedelta(seconds=config.jobs_lease_s)
        self.heartbeat_s = config.jobs_heartbeat_s
        self.poll_s = config.jobs_poll_s

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        """Run until stopped (or, with `once`, until nothing is ready); the exit status."""
        now = utcnow()
        Worker.objects.create(
            worker_id=self.worker_id, hostname=socket.gethostname()[:200], pid=os.getpid(),
            queues="" if not self.concurrency else ",".join(self.queues) if self.queues else "*", schedules=self.schedule is not None,
            started_at=now, last_seen_at=now,
        )  # fmt: skip
        log.info("worker %s started (queues %s, %s runner(s)%s)", self.worker_id, self.queues or "all",
                 self.concurrency, ", scheduling" if self.schedule is not None else "")  # fmt: skip
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, self._on_signal)
        beat = threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)
        beat.start()
        if self.once and self.schedule is not None:
            scheduler.schedule_due(self.schedule, by=self.worker_id)
        threads = [threading.Thread(target=self._runner, name=f"runner-{n}", daemon=True)
                   for n in range(self.concurrency)]  # fmt: skip
        if self.schedule is not None and not self.once:
            threads.append(threading.Thread(target=self._scheduler, name="scheduler", daemon=True))
        for thread in threads:
            thread.start()
        self._wait(threads)
        status = 1 if self.forced.is_set() else 0
        if self.forced.is_set():
            handed_back = runner.release(self.worker_id)
            log.warning(
                "worker %s forced to stop: %s running job(s) handed back", self.worker_id, handed_back
            )
        self.stop.set()
        self.finished.set()
        Worker.objects.filter(worker_id=self.worker_id).update(stopped_at=utcnow(), last_seen_at=utcnow())
        connection.close()
        log.info("worker %s stopped", self.worker_id)
        return status

    def _wait(self, threads: list[threading.Thread]) -> None:
        while any(t.is_alive() for t in threads):
            if self.stop.wait(0.2):
                break
            if self.once and not any(t.is_alive() for t in threads if t.name.startswith("runner")):
                return
        deadline = utcnow() + timedelta(seconds=self.grace)
        while any(t.is_alive() for t in threads) and not self.forced.is_set():
            if utcnow() > deadline:
                self.forced.set()
                break
            self.forced.wait(0.2)

    def _on_signal(self, signum, frame) -> None:
        if self.stop.is_set():
            self.forced.set()
            return
        log.warning("worker %s: %s, stopping after the running jobs (again to stop now)", self.worker_id,
                    signal.Signals(signum).name)  # fmt: skip
        self.stop.set()

    # ------------------------------------------------------------------ threads

    def _runner(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    job = runner.claim_next(self.worker_id, self.lease, self.queues)
                    if job is None:
                        runner.reap_expired()
                        job = runner.claim_next(self.worker_id, self.lease, self.queues)
                except DatabaseError as exc:  # e.g. SQLite busy, PostgreSQL restarting: try again later
                    log.warning("worker %s: cannot claim a job now: %s", self.worker_id, exc)
                    connection.close()
                    self.stop.wait(self.poll_s * 5)
                    continue
                if job is None:
                    if self.once:
                        return
                    self.stop.wait(self.poll_s)
                    continue
                runner.execute(job)
                Worker.objects.filter(worker_id=self.worker_id).update(jobs_done=F("jobs_done") + 1)
        finally:
            connection.close()

    def _heartbeat(self) -> None:
        try:
            while not self.finished.wait(self.heartbeat_s):
                try:
                    Worker.objects.filter(worker_id=self.worker_id).update(last_seen_at=utcnow())
                    runner.extend_leases(self.worker_id, self.lease)
                except DatabaseError as exc:
                    log.warning("worker %s: heartbeat failed: %s", self.worker_id, exc)
                    connection.close()
        finally:
            connection.close()

    def _scheduler(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    scheduler.schedule_due(self.schedule or [], by=self.worker_id)
                except DatabaseError as exc:
                    log.warning("worker %s: scheduling failed, retrying: %s", self.worker_id, exc)
                    connection.close()
                    self.stop.wait(self.poll_s * 5)
                    continue
                self.stop.wait(scheduler.seconds_to_next(self.schedule or []))
        finally:
            connection.close()
