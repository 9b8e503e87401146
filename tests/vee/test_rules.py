"""Each data-quality rule (issue 14 item 2) on a small frame: given values, when judged, then flagged."""

from __future__ import annotations

import numpy as np
import pytest

from egsu.vee import rules
from egsu.vee.catalogue import default_limits
from egsu.vee.engine import astana_days, check_zone

Q = 900  # a quarter hour


def frame(*series):
    """Series of values on a 15-minute grid from t=0 (None = no value in that slot)."""
    sid, t, v = [], [], []
    for index, values in enumerate(series):
        for slot, value in enumerate(values):
            if value is not None:
                sid.append(index), t.append(slot * Q), v.append(value)
    return rules.Frame.of(sid, t, v)


def flagged(mask):
    return np.flatnonzero(mask).tolist()


def test_range_by_quantity_and_unit_uses_the_intakes_limits():
    assert default_limits("density", "kg/m³") == (0.0, 1500.0)  # egsu_core.isun.units.Plausibility
    assert default_limits("A+", "kWh") == (0.0, 1e7)  # egsu.ami.catalog
    assert default_limits("volume", "m3") == (0.0, 1e9)  # the spelling the intake also stores
    assert default_limits("A+", "MWh") is None  # another unit: only a configured limit applies
    f = frame([5, -1, 2000, 7])
    assert flagged(rules.out_of_range(f, 0, 1500)) == [1, 2]
    assert flagged(rules.out_of_range(f, np.nan, np.nan)) == []


def test_spike_needs_both_neighbours_far_below():
    f = frame([1, 1.2, 50, 1.1, 1.0, 30], [100, 120, 130])
    assert flagged(rules.spikes(f, 10.0, 1.0)) == [2]  # the last value waits for its neighbour


def test_stuck_value_is_a_long_flat_line_but_not_zeros_or_a_broken_grid():
    f = frame([3, 3, 3, 3, 4, 0, 0, 0, 0, 0], [7, 7, None, 7, 7])
    assert flagged(rules.stuck(f, Q, 4)) == [0, 1, 2, 3]
    assert flagged(rules.stuck(f, Q, 4, ignore_zero=False)) == [0, 1, 2, 3, 5, 6, 7, 8, 9]


def test_gap_inside_and_at_the_window_edges():
    f = frame([None, 1, 2, None, None, 5, None], [1, 1, 1, 1, 1, 1, 1])
    found = rules.gaps(f, Q, start=0, end=7 * Q)
    assert list(zip(found.sid.tolist(), (found.first // Q).tolist(), (found.last // Q).tolist(), strict=True)) == [
        (0, 0, 0), (0, 3, 4), (0, 6, 6),
    ]  # fmt: skip


def test_negative_consumption():
    assert flagged(rules.negative(frame([1, -0.5, 0]))) == [1]


def test_register_rollback_except_after_a_meter_replacement():
    f = frame([100, 105, 90, 95, 3, 4])
    assert flagged(rules.rollback(f)) == [2, 4]
    replaced = rules.replaced_between(f, {0: [4 * Q - 10]})  # a new meter fitted before slot 4
    assert flagged(rules.rollback(f, replaced)) == [2]


def test_interval_sum_against_the_register_difference():
    registers = rules.Frame.of([0, 0, 0], [0, 4 * Q, 8 * Q], [1000, 1004, 1010])
    intervals = rules.Frame.of([0] * 8, [n * Q for n in range(8)], [1, 1, 1, 1, 1, 1, 1, 1])
    mask, total, difference = rules.interval_vs_register(registers, intervals, Q, 0.5, 0.0)
    assert flagged(mask) == [2]  # 4 kWh in the intervals, 6 on the register
    assert (total.tolist()[1:], difference.tolist()[1:]) == ([4.0, 4.0], [4.0, 6.0])
    short = rules.Frame.of([0] * 7, [n * Q for n in range(7)], [1] * 7)
    assert flagged(rules.interval_vs_register(registers, short, Q, 0.5, 0.0)[0]) == []  # a gap: not judged


def test_mass_equals_volume_times_density_within_tolerance():
    mask, expected = rules.mass_volume_density(
        [100, 100, np.nan], [850, 850, 850], [85.0, 90.0, 1.0], 0.1, 0.01
    )
    assert flagged(mask) == [1] and expected[0] == pytest.approx(85.0)


def test_tank_balance_begin_plus_in_minus_out_is_end():
    mask, imbalance, relative = rules.balance([1000, 1000], [200, 200], [150, 150], [1050, 1040], 1.0, 0.005)
    assert flagged(mask) == [1]
    assert imbalance.tolist() == [0.0, -10.0] and relative[1] == pytest.approx(-0.05)


def test_timestamps_in_the_future_or_before_installation():
    f = rules.Frame.of([0, 0, 0], [100, 5000, 9000], [1, 1, 1])
    future, early = rules.timestamps(f, now=8000, tolerance=600, installed_from=1000)
    assert (flagged(future), flagged(early)) == ([2], [0])


def test_runs_and_astana_days():
    sid = np.array([0, 0, 0, 1, 1])
    first, last = rules.runs(np.array([True, True, False, True, True]), sid)
    assert (first.tolist(), last.tolist()) == ([0, 3], [1, 4])
    check_zone()
    # 2025-06-01 00:00 Astana (UTC+5) is 2025-05-31 19:00 UTC
    assert astana_days(np.array([1748718000, 1748717999])).tolist() == [20240, 20239]
