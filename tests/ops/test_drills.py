"""Drills (issue 17 item 5; DIG-13, INT-13): what survives a web worker killed with SIGKILL in the
middle of intake. A lean version here (a few kills); `benchmarks/drill_kill.py` runs a hundred and more.
"""

from __future__ import annotations

import pytest

from tests.intake.conftest import DEMO_PASSWORD
from tests.ops.conftest import egsu_env
from tests.ops.drills import run_drill


def test_kill_9_of_web_workers_during_intake_loses_nothing_and_stores_nothing_twice(tmp_path, settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip(
            "the lean drill runs once, in the SQLite pass; benchmarks/drill_kill.py takes --database-url"
        )
    var = tmp_path / "var"
    env = egsu_env(var, f"sqlite:///{var / 'egsu.sqlite3'}")
    outcome = run_drill(var, env, kills=4, messages=6, batches=6, password=DEMO_PASSWORD, interval=(0.3, 0.9))
    # every message and batch was acknowledged in the end (200), with the answer of a full store
    assert len(outcome.acknowledged) == 12
    assert {a.split()[0] for a in outcome.acknowledged.values()} == {"200"}, outcome.acknowledged
    assert all("SCSS001" in a or "stored" in a for a in outcome.acknowledged.values()), outcome.acknowledged
    # and each is stored exactly once, whatever the kills interrupted
    stored = outcome.stored
    assert (stored["messages"], stored["messages_twice"], stored["batches"], stored["revised"]) == (
        6,
        0,
        6,
        0,
    )
    assert stored["values"] - outcome.expected_values >= 6  # the ISUN values, beside the AMI ones exactly
    assert 1 <= outcome.kills <= 4  # the senders may finish before the fourth kill is due
