"""Fixtures for the journal tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connections

from egsu.conf import database_from_url
from egsu.journal.models import JournalEntry

SAMPLE = (
    b'<ns2:SendMessage xmlns:ns2="http://bip.bee.kz/SyncChannel/v10/Types"><request><requestInfo>'
    b"<messageId>04e0ee99-407a-4b1e-a702-90230f9d7f8f</messageId><serviceId>ISUN_Service2</serviceId>"
    b"<messageDate>2024-01-18T18:13:25.583+06:00</messageDate>"
    b"<sender><senderId>oilco</senderId><password>s3cret&lt;pw</password></sender></requestInfo>"
    b"<requestData><data><events><id>407001</id><mass>80.46875</mass></events></data></requestData>"
    b"</request></ns2:SendMessage>"
)


@pytest.fixture
def threads_db(transactional_db, tmp_path, monkeypatch):
    """Run callables in threads on a database that lets them wait for each other's locks.

    On PostgreSQL that is the test database. SQLite's test database is a shared-cache in-memory
    one whose table locks fail at once; the embedded system runs on a file in WAL mode with
    BEGIN IMMEDIATE, so the threads' "default" connections go to such a file, holding the
    journal table only. Results are read back in a thread too, on the same database.
    """
    default = connections["default"]
    if default.vendor == "sqlite" and default.is_in_memory_db():
        file_settings = {
            **connections.settings["default"],
            **database_from_url("sqlite:///" + str(tmp_path / "threads.sqlite3"), tmp_path),
        }
        monkeypatch.setitem(connections.settings, "default", file_settings)

        def create_table() -> None:
            with connections["default"].schema_editor() as editor:
                editor.create_model(JournalEntry)

        _run_in_threads([create_table])
    return _run_in_threads


def _run_in_threads(calls: list[Callable[[], object]]) -> list[object]:
    """Start every call at the same moment, each in its own thread; return their results."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = calls[index]()
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results
