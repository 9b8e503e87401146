"""Outbox and retry rules against a fake System: INT-07, INT-13/14/15, idempotent resends, answers."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from egsu_agent.config import load_config
from egsu_agent.delivery import Outcome, RetryRule, read_answer
from egsu_agent.schedule import ManualClock, local_instant
from egsu_agent.service import Agent
from egsu_core.clock import ASTANA
from egsu_core.shep.envelope import SyncResponse, build_response
from tests.agent.conftest import FakeSystem, base_config, write_config

DAY = date(2026, 3, 10)
START = local_instant(DAY, 0)


def feed(tmp_path, tags=("T1.level", "T1.volume"), hours=48):
    lines = ["tag,time,value"]
    for i in range(hours * 2):
        at = (START + timedelta(minutes=30 * i)).astimezone(ASTANA).strftime("%Y-%m-%dT%H:%M")
        lines += [f"{tag},{at},{3 + i % 5}" for tag in tags]
    (tmp_path / "drop" / "feed.csv").write_text("\n".join(lines) + "\n")


def make_agent(tmp_path, key_and_cert, system, **sections):
    data = base_config(tmp_path, key_and_cert, **sections)
    feed(tmp_path)
    config = load_config(write_config(tmp_path / "agent.toml", data))
    clock = ManualClock(START)
    return Agent(config, clock=clock, channel=system), clock


@pytest.mark.parametrize(
    ("failed_at", "attempts", "expected"),
    [
        pytest.param(
            datetime(2026, 3, 10, 3, tzinfo=UTC),
            1,
            datetime(2026, 3, 10, 3, 30, tzinfo=UTC),
            id="first-failure",
        ),
        pytest.param(
            datetime(2026, 3, 10, 3, tzinfo=UTC),
            2,
            datetime(2026, 3, 10, 3, 30, tzinfo=UTC),
            id="second-failure",
        ),
        pytest.param(
            datetime(2026, 3, 10, 3, tzinfo=UTC),
            3,
            datetime(2026, 3, 10, 19, tzinfo=UTC),
            id="third-waits-for-next-astana-day",
        ),
    ],
)
def test_retry_rule(failed_at, attempts, expected):
    assert RetryRule().next_attempt(failed_at, attempts) == expected


def test_down_for_a_day_three_attempts_each_then_backfill_oldest_first_with_the_same_bytes(
    tmp_path, key_and_cert
):
    # given a System that is down for the whole of DAY
    system = FakeSystem()
    agent, clock = make_agent(tmp_path, key_and_cert, system)
    back = local_instant(DAY + timedelta(days=1), 0)
    # when the agent runs through DAY and into the next morning
    agent.run(until=back + timedelta(hours=3), before_tick=lambda now: setattr(system, "down", now < back))
    messages = agent.outbox.all_messages()
    attempts = agent.outbox.attempts()
    agent.close()
    # then every message was tried at most 3 times a day, the same bytes each time
    per_day = Counter((a.message_id, a.at.astimezone(ASTANA).date()) for a in attempts)
    assert max(per_day.values()) == 3
    bodies: dict[str, set[bytes]] = {}
    for message_id, body in system.posts:
        bodies.setdefault(message_id, set()).add(body)
    assert all(len(b) == 1 for b in bodies.values())
    # and after the outage all went out, oldest first, each accepted once
    assert all(m.state == "delivered" for m in messages) and len(messages) == 13 + 1
    delivered = [a.message_id for a in attempts if a.outcome == "delivered"]
    assert delivered == [m.message_id for m in messages]
    assert Counter(delivered) == Counter({m.message_id: 1 for m in messages})


def test_a_backfill_is_split_under_the_size_limit(tmp_path, key_and_cert):
    # given forty tanks and a 10 kB message limit
    devices = [
        {
            "object_id": str(407004 + n),
            "kind": "1.2",
            "device": "2",
            "device_type": 1,
            "operation_type": 7,
            "product_type": 1,
            "quantities": {"tankLevel": {"tag": "T1.level", "unit": "m"}},
        }
        for n in range(40)
    ]
    system = FakeSystem()
    agent, clock = make_agent(
        tmp_path,
        key_and_cert,
        system,
        devices=devices,
        delivery={"max_message_bytes": 10_000},
        schedule={"first_day": DAY, "poll_seconds": 600, "daily": False},
    )
    agent.run(until=START + timedelta(hours=2, minutes=15))  # the slot, then the default 15-minute settle
    messages = agent.outbox.all_messages()
    agent.close()
    # then the one period went out in several chunks, each under the limit, all forty records
    assert len(messages) > 1 and all(m.size <= 10_000 for m in messages)
    assert sum(m.records for m in messages) == 40 and {m.period_start for m in messages} == {START}


def test_a_final_refusal_is_not_retried_and_its_rejections_are_kept(tmp_path, key_and_cert):
    system = FakeSystem()
    system.answer = Outcome(
        "rejected", "SCBR001", "No record accepted", ((1, "407004", "2", "DEVICE_UNKNOWN", "no such device"),)
    )
    agent, clock = make_agent(
        tmp_path, key_and_cert, system, schedule={"first_day": DAY, "poll_seconds": 600, "daily": False}
    )
    agent.run(until=START + timedelta(hours=4, minutes=15))
    status = agent.status()
    rejections = agent.outbox.rejections()
    agent.close()
    assert len(system.posts) == 2 and status["pending"] == [] and status["rejected_messages"] == 2
    assert rejections[0][1:] == (1, "407004", "2", "DEVICE_UNKNOWN", "no such device")


def test_manual_send_of_a_period_reuses_its_message_id(tmp_path, key_and_cert):
    system = FakeSystem()
    system.down = True
    agent, clock = make_agent(
        tmp_path, key_and_cert, system, schedule={"first_day": DAY, "poll_seconds": 600, "daily": False}
    )
    agent.run(until=START + timedelta(hours=2, minutes=15))
    first_id = system.posts[0][0]
    system.down = False
    assert agent.send_period("PT2H", START).delivered == 1
    agent.close()
    assert [mid for mid, _ in system.posts] == [first_id, first_id]


RECEIPT = (
    '<ns2:response xmlns:ns2="http://shep.nitec.kz/"><requestNumber>r-1</requestNumber><status><code>PARTIAL</code>'
    '</status><records><record position="1" status="ACCEPTED"/><record position="2" id="407004" device="2"'
    ' status="REJECTED" code="DEVICE_UNKNOWN">no such device</record></records></ns2:response>'
)


@pytest.mark.parametrize(
    ("code", "state", "rejected"),
    [
        pytest.param("SCSS001", "delivered", 1, id="success"),
        pytest.param("SCSS002", "delivered", 1, id="partial-is-delivered-with-rejections"),
        pytest.param("Success", "delivered", 1, id="the-real-isun-code"),
        pytest.param("SCBR001", "rejected", 1, id="all-rejected-is-final"),
        pytest.param("SCX999", "failed", 1, id="unknown-code-is-retried"),
    ],
)
def test_answers_are_classified(code, state, rejected):
    answer = build_response(
        SyncResponse(
            message_id="a",
            correlation_id="m",
            response_date=datetime(2026, 3, 10, tzinfo=UTC),
            status_code=code,
            status_message="…",
            data_text=RECEIPT,
        )
    )
    outcome = read_answer(answer)
    assert (outcome.state, outcome.code, len(outcome.rejections)) == (state, code, rejected)
    assert outcome.rejections[0][3] == "DEVICE_UNKNOWN"
    assert Decimal(1) == Decimal("1.0")
