"""The engine's rules across quantities on a hand-made batch: intervals against the register, mass
against volume × density, and settings resolved most-specific-first (no database)."""

from __future__ import annotations

from dataclasses import dataclass

from egsu.vee.engine import Batch, SeriesInfo, evaluate
from egsu.vee.settings import Settings

Q = 900
DAY = 1_748_804_400  # 2025-06-02 00:00 Astana


@dataclass
class Row:  # a RuleSetting as Settings reads it
    code: str
    params: dict
    enabled: bool = True
    alarm_severity: str = ""
    quantity: str = ""
    device_type: str = ""
    point_id: int | None = None

    @property
    def specificity(self) -> int:
        return 4 if self.point_id else (2 if self.device_type else 0) + (1 if self.quantity else 0)


def batch(*series: tuple[SeriesInfo, list[tuple[int, float]]]) -> Batch:
    found = Batch()
    for index, (info, values) in enumerate(series):
        found.series.append(info)
        for t, v in values:
            found.sid.append(index), found.t.append(t), found.v.append(v)
    return found


def resolver(rows):
    settings = Settings(rows)
    return lambda code, info: settings.resolve(
        code, point_id=info.point_id, device_type=info.device_type, quantity=info.quantity
    )


def test_intervals_against_the_register_and_mass_against_volume_and_density():
    quarters = [(DAY + n * Q, 0.5 if n % 2 else 1.5) for n in range(96 * 2)]  # 96 kWh a day
    judged = batch(
        (SeriesInfo("TP", "7", "A+", "PT15M", "kWh"), quarters),
        (SeriesInfo("TP", "7", "reg:A+", "P1D", "kWh"), [(DAY, 500.0), (DAY + 86400, 596.0), (DAY + 2 * 86400, 700.0)]),
        (SeriesInfo("O1", "1", "density", "PT2H", "kg/m³"), [(DAY, 850.0), (DAY + 7200, 850.0)]),
        (SeriesInfo("O1", "1", "mass", "PT2H", "t"), [(DAY, 85.0), (DAY + 7200, 90.0)]),
        (SeriesInfo("O1", "1", "volume", "PT2H", "m³"), [(DAY, 100.0), (DAY + 7200, 100.0)]),
    )  # fmt: skip
    outcome = evaluate(judged, resolver([]), now=DAY + 3 * 86400)
    found = sorted((f.rule, judged.series[f.series].quantity, f.first, f.detail) for f in outcome.findings)
    assert found == [
        ("mass_density", "mass", DAY + 7200, {"mass": 90.0, "expected": 85.0}),
        ("sum_register", "reg:A+", DAY + 86400, {"intervals": 96.0, "register": 104.0}),
    ]


def test_the_most_specific_setting_wins():
    spike = [(DAY + n * Q, v) for n, v in enumerate([1, 1, 9, 1, 1])]
    judged = batch(
        (SeriesInfo("TP", "1", "A+", "PT15M", "kWh", point_id=1, device_type="1P"), spike),
        (SeriesInfo("TP", "2", "A+", "PT15M", "kWh", point_id=2, device_type="1P"), spike),
        (SeriesInfo("TP", "3", "A+", "PT15M", "kWh", point_id=3, device_type="3P-CT"), spike),
    )  # fmt: skip
    rows = [
        Row("spike", {"factor": 5.0}, device_type="1P"),  # both 1P meters: 9 > 5 × 1
        Row("spike", {}, enabled=False, point_id=2),  # but not this one
    ]
    outcome = evaluate(judged, resolver(rows), now=DAY + 86400)
    assert sorted(judged.series[f.series].device_id for f in outcome.findings if f.rule == "spike") == ["1"]
