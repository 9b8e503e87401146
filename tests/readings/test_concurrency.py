"""Concurrent writers of the same keys: no duplicates, one revision per distinct value."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

from django.db import connections

from egsu.readings.backends.sql import SqlReadingsStore
from egsu.readings.models import Reading
from egsu.readings.store import SeriesKey, WriteOutcome
from tests.readings.factories import DAY, make_row

WRITERS = 4
KEYS = 150


def _run_writers(alias: str, phases: list[list]) -> list[list[list[WriteOutcome]]]:
    """Each writer writes each phase's rows, all writers starting a phase together."""
    barrier = threading.Barrier(WRITERS)
    results: list[list[list[WriteOutcome]]] = [[] for _ in range(WRITERS)]
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        store = SqlReadingsStore(using=alias)
        try:
            for rows in phases:
                barrier.wait(timeout=30)
                # Writers take the keys in different orders, to invite lock-order trouble.
                ordered = rows if index % 2 == 0 else list(reversed(rows))
                outcomes = store.write(ordered)
                results[index].append(outcomes if index % 2 == 0 else list(reversed(outcomes)))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_concurrent_writers_of_the_same_keys_store_each_value_once(race_alias):
    # given four writers sending the same 150 new values, then the same 150 changed values
    first = [make_row(f"{k}.5", object_id=f"obj-{k:03d}") for k in range(KEYS)]
    second = [make_row(f"{k}.75", object_id=f"obj-{k:03d}", source="msg-2") for k in range(KEYS)]
    # when they all write at the same moment, phase by phase
    results = _run_writers(race_alias, [first, second])
    # then every key holds exactly revision 1 (first value) and revision 2 (second value)
    store = SqlReadingsStore(using=race_alias)
    for k in range(KEYS):
        history = store.history(SeriesKey(f"obj-{k:03d}", "1", "mass"), "P1D", DAY)
        assert [(r.revision, r.value) for r in history] == [(1, Decimal(f"{k}.5")), (2, Decimal(f"{k}.75"))]
    assert Reading.objects.using(race_alias).count() == 2 * KEYS
    # and for every key exactly one writer was told NEW, then exactly one REVISED; the rest DUPLICATE
    for phase, winner in [(0, WriteOutcome.NEW), (1, WriteOutcome.REVISED)]:
        for k in range(KEYS):
            told = Counter(results[w][phase][k] for w in range(WRITERS))
            assert told == Counter({winner: 1, WriteOutcome.DUPLICATE: WRITERS - 1}), (phase, k, told)
