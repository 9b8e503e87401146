"""Jobs for the tests of the queue: their side effects are rows the test can count.

`record` marks each start, and its completion inserts a row whose key is unique: a job run twice
to completion would fail on the second insert, so exactly one effect row proves "once".
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from django.db import connection

from egsu.jobs.registry import job
from egsu.jobs.runner import progress

TABLES = {
    "jobs_test_effect": "key VARCHAR(100) PRIMARY KEY, pid INTEGER NOT NULL",
    "jobs_test_started": "key VARCHAR(100) NOT NULL, pid INTEGER NOT NULL",
    "jobs_test_period": "name VARCHAR(80) NOT NULL, period_start VARCHAR(40) NOT NULL, pid INTEGER NOT NULL",
}


def insert(table: str, *values) -> None:
    marks = ", ".join(["%s"] * (len(values) + 1))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} VALUES ({marks})", [*values, os.getpid()])  # noqa: S608 - our names


def rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
        return sorted(cursor.fetchall())


def count_started(key: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM jobs_test_started WHERE key = %s", [key])
        return cursor.fetchone()[0]


@job(max_attempts=3, retry_after=timedelta(0))
def record(key: str, seconds: float = 0.0) -> int:
    insert("jobs_test_started", key)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    insert("jobs_test_effect", key)
    return os.getpid()


@job(max_attempts=2, retry_after=timedelta(0))
def fails_first(key: str) -> str:
    tries = count_started(key)
    insert("jobs_test_started", key)
    if tries == 0:
        raise RuntimeError("the first attempt fails")
    return "second time lucky"


@job(max_attempts=3, retry_after=timedelta(seconds=30))
def always_fails() -> None:
    raise ValueError("this job always fails")


@job()
def per_period(name: str, period_start: str) -> None:
    insert("jobs_test_period", name, period_start)


@job()
def counts_up(total: int) -> int:
    for done in range(1, total + 1):
        progress(done, total, note=f"step {done}")
    return total
