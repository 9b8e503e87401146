"""One flusher per server: the queued intents of every writer inserted into ClickHouse as one block.

ClickHouse's work per insert is large and per row small (benchmarks/clickhouse_blocks.py): a part of
the readings table and of each rollup view per insert, merged again later. With deferred inserts
(`EGSU_READINGS_FLUSH_S`, ADR 0013 "Deferred inserts") a write answers once its claim and its intent
have committed, the intent *queued* for nobody in particular, and a flusher takes the queued intents
of all writers every interval and inserts them together.

Every writer process of a store runs a `Flusher` thread, started at its first queued write; only the
one that holds the host's flusher lock (an exclusive `flock` on a file named after the claims
namespace) flushes, so a server makes one block per interval whatever its number of web workers and
MQTT consumers. The kernel drops the lock with its process, and another writer's thread takes it at
its next tick. Which intents a flush takes is settled in the claims database (`Claims.take_queued`),
so flushers of several servers never share one; what a flusher took and did not finish (it died,
its insert failed) is completed by recovery, which inserts only what ClickHouse lacks.

A process that stops in order (a web worker's graceful exit, an MQTT consumer or job worker told to stop,
any normal interpreter exit) first inserts what is queued (`Flusher.finish`, run at exit): otherwise the
last writes of a server that stops for good would wait for the next start, or for the periodic recovery,
before reads show them. A process killed outright leaves them to the others' flushers and to recovery.

The order's volume (AMI-13..21: every quarter hour of every meter, a billion values a day) is why: an
insert per batch costs ClickHouse as much as the whole intake (benchmarks/README.md).
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class Flushing(Protocol):
    flush_block_rows: int

    def flush(self, max_rows: int | None = None) -> int: ...

    def drain(self, deadline: float | None = None) -> int: ...


class Flusher:
    """The flusher thread of one store in this process (it flushes while it holds the host's lock)."""

    def __init__(self, store: Flushing, *, interval_s: float, lock_path: Path) -> None:
        self.store = store
        self.interval_s = interval_s
        self.lock_path = lock_path
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stop = threading.Event()
        self._lock_fd: int | None = None
        mine = weakref.ref(self)  # the fork and exit hooks must not keep a dropped store alive
        os.register_at_fork(after_in_child=lambda: (flusher := mine()) is not None and flusher._forked())
        atexit.register(lambda: (flusher := mine()) is not None and flusher.finish())

    @property
    def holds_lock(self) -> bool:
        return self._lock_fd is not None and self._pid == os.getpid()

    def _running(self) -> bool:
        return self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run the thread in this process (once; again in a forked child, whose parent's thread is not its own)."""
        if self._running():  # every queued write asks: without the guard's lock when it runs already
            return
        with self._guard:
            if self._running():
                return
            self._pid = os.getpid()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="egsu-readings-flusher", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the thread after its flush in progress and give the lock up (queued intents stay queued)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        self._release()

    def finish(self, timeout_s: float = 20.0) -> int:
        """An orderly stop: the thread stopped, then what is queued (by any writer) inserted, for at most
        about `timeout_s` (a web server's graceful stop waits 30 s); rows inserted. Only in a process whose
        writes started the thread; a failure is logged and left to recovery, as a failed flush is."""
        if self._pid != os.getpid():
            return 0
        deadline = time.monotonic() + timeout_s
        self.stop(timeout_s)
        self._pid = 0  # once: a later exit hook has nothing left to do
        try:
            return self.store.drain(deadline)
        except Exception:  # noqa: BLE001 - at exit: what was taken is failed, recovery inserts it
            log.exception("inserting the queued readings at exit failed; recovery will insert them")
            return 0

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if not self._take_lock():
                    continue
                while not self._stop.is_set() and self.store.flush() >= self.store.flush_block_rows:
                    pass  # a full block: more may be queued, flush again at once
            except Exception:  # noqa: BLE001 - the thread goes on; taken intents are failed, recovery completes them
                log.exception("flushing queued readings failed; recovery will insert what was taken")

    def _take_lock(self) -> bool:
        if self._lock_fd is not None:
            return True
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _release(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)

    def _forked(self) -> None:
        """In a child: the parent's thread did not come along, and the lock stays the parent's."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # the parent's own descriptor keeps its lock; this copy must not outlive it
        self._thread = None
        self._pid = 0
        self._guard = threading.Lock()


def lock_path(namespace: str, directory: str | None = None) -> Path:
    """The host's flusher lock for the claims namespace (a ClickHouse database)."""
    return Path(directory or tempfile.gettempdir()) / f"egsu-readings-flush-{namespace}.lock"
