"""Estimation of gaps in 15-minute data: a line up to 2 hours, the like-day profile beyond (issue 14)."""

from __future__ import annotations

from datetime import date

import pytest

from egsu.vee.estimation import DAY, estimate_series, like_day_offsets

Q = 900


def test_a_short_gap_is_a_straight_line_between_its_neighbours():
    t = [0, Q, 4 * Q]  # slots 2 and 3 missing: 30 minutes
    found = estimate_series(t, [1.0, 2.0, 5.0], Q)
    assert [(e.t // Q, e.value, e.method) for e in found] == [(2, 3.0, "linear"), (3, 4.0, "linear")]


def test_a_long_gap_takes_the_like_day_profile():
    day = 10 * DAY
    t = [day, day + 12 * Q]  # 11 slots (2 h 45 min) missing
    history = {day - DAY + n * Q: 2.0 for n in range(12)} | {day - 2 * DAY + n * Q: 4.0 for n in range(12)}
    found = estimate_series(t, [1.0, 1.0], Q, history=history, offsets_of=lambda slot: [1, 2])
    assert len(found) == 11 and {e.method for e in found} == {"profile"}
    assert found[0].value == pytest.approx(3.0)


def test_nothing_is_invented_without_a_like_day():
    assert estimate_series([0, 20 * Q], [1.0, 1.0], Q, history={}, offsets_of=lambda slot: [1]) == []


def test_like_days_are_days_of_the_same_kind():
    # Monday 2025-06-16: the working days before it, skipping the weekend (6 June was a holiday)
    assert like_day_offsets(date(2025, 6, 16), wanted=3) == [3, 4, 5]
    assert like_day_offsets(date(2025, 6, 15), wanted=2) == [1, 7]  # a Sunday: Saturday, the Sunday before
