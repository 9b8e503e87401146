"""Gunicorn hooks for Prometheus' multiprocess mode (`--config python:egsu.ops.gunicorn`).

Each gunicorn worker writes its counters to PROMETHEUS_MULTIPROC_DIR; /metrics merges them. At start
the files of processes that are gone are removed; a worker that exits is marked dead.
"""

from __future__ import annotations

import os


def on_starting(server) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from egsu.ops.metrics import clean_multiprocess_dir

        clean_multiprocess_dir(directory)


def child_exit(server, worker) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, directory)
