"""From raw samples to the values each App.2 table asks for: pure functions, no I/O.

The rules, with the table rows they implement (FMT-04; decisions on §18 A7):

- Level, volume, temperature, pressure, density (Tables 1.1 rows 7–8, 1.2 rows 8–9,
  1.3 row 9, 1.4–1.8 rows 8–10, 1.9 rows 8–11): a two-hourly record carries the
  arithmetic mean of the samples taken in [start, end) of the two hours; a daily
  record carries the mean of the samples of the Astana day ("average daily value").
  Samples flagged faulty are left out of the mean.
- Table 1.3 rows 10–11, ``massflowbegin`` / ``massflowend``: the mass totaliser at the
  start and at the end of the period — the last sample at or before the instant (for
  the start, the first sample of the period when none came before). Row 12, ``mass``:
  the mass shipped in the period, ``massflowend − massflowbegin``. Daily records use
  the same rule over the day: the order's literal "average daily value of the mass"
  contradicts the field names (§18 A7), and the real ISUN clients send the totaliser
  at the start and end of the day with mass = end − begin (shep-notes §4).
- ``deviceStatus`` (FMT-05, every table's last row): "yes" when every tag of the device
  delivered at least one sample in the period and none was flagged faulty (a fault
  flag on a sample or a non-zero status tag); otherwise "no".
- Units: each sample is converted to its App.3 unit before averaging (UNIT-02..08);
  results are rounded half-even to the configured number of decimals.
- A device with no usable value in the period yields no record (the System would
  refuse it as NO_VALUES); the silence raises a notice instead (INT-10).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from egsu_agent.config import DeviceConfig
from egsu_agent.samples import Sample
from egsu_agent.schedule import Period
from egsu_agent.units import to_app3
from egsu_core.isun.samples import sample_record


def within(samples: Iterable[Sample], start: datetime, end: datetime) -> list[Sample]:
    """Samples taken in [start, end)."""
    return [s for s in samples if start <= s.at < end]


def mean(values: Sequence[Decimal]) -> Decimal | None:
    if not values:
        return None
    return sum(values, Decimal(0)) / len(values)


def rounded(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)


def reading_at(samples: Sequence[Sample], instant: datetime) -> Sample | None:
    """The last good sample at or before ``instant`` (a totaliser's reading at that moment)."""
    best = None
    for sample in samples:
        if sample.fault or sample.at > instant:
            continue
        if best is None or sample.at >= best.at:
            best = sample
    return best


def totaliser_span(samples: Sequence[Sample], period: Period) -> tuple[Sample, Sample] | None:
    """(begin, end) readings of a cumulative counter for the period (Table 1.3 rows 10–11)."""
    begin = reading_at(samples, period.start)
    if begin is None:
        inside = sorted(s for s in within(samples, period.start, period.end) if not s.fault)
        begin = inside[0] if inside else None
    end = reading_at(samples, period.end)
    if begin is None or end is None or end.at < period.start or end.at < begin.at:
        return None
    return begin, end


@dataclass(frozen=True)
class DeviceValues:
    values: dict[str, Decimal]
    ok: bool
    silent_tags: tuple[str, ...]
    """Tags of the device that gave no sample in the period."""


def device_values(
    device: DeviceConfig, period: Period, samples: Mapping[str, Sequence[Sample]], *, decimals: int
) -> DeviceValues:
    """The device's App.3 values for one period, and its serviceability (rules in the module docstring)."""
    values: dict[str, Decimal] = {}
    silent: list[str] = []
    faulty = False
    for mapping in device.quantity_maps:
        inside = within(samples.get(mapping.tag, ()), period.start, period.end)
        if not inside:
            silent.append(mapping.tag)
            continue
        faulty = faulty or any(s.fault for s in inside)
        good = [to_app3(mapping.quantity, s.value, mapping.unit) for s in inside if not s.fault]
        average = mean(good)
        if average is not None:
            values[mapping.quantity] = rounded(average, decimals)
    totaliser = device.totaliser_map
    if totaliser is not None:
        tag_samples = samples.get(totaliser.tag, ())
        inside = within(tag_samples, period.start, period.end)
        faulty = faulty or any(s.fault for s in inside)
        span = totaliser_span(tag_samples, period)
        if not inside and span is None:
            silent.append(totaliser.tag)
        if span is not None:
            unit = totaliser.unit
            begin = rounded(to_app3("massflowbegin", span[0].value, unit), decimals)
            end = rounded(to_app3("massflowend", span[1].value, unit), decimals)
            values["massflowbegin"], values["massflowend"] = begin, end
            values["mass"] = end - begin
    if device.status_tag is not None:
        flags = within(samples.get(device.status_tag, ()), period.start, period.end)
        if not flags:
            silent.append(device.status_tag)
        faulty = faulty or any(s.fault or s.value != 0 for s in flags)
    ok = not silent and not faulty
    return DeviceValues(values=values, ok=ok, silent_tags=tuple(silent))


def device_record(
    device: DeviceConfig, period: Period, result: DeviceValues, *, registered_at: datetime
) -> dict[str, str] | None:
    """The App.2 record in the device's own table's field names (FMT-08), or None without values."""
    if not result.values:
        return None
    ordered = {name: result.values[name] for name in _ORDER if name in result.values}
    return sample_record(
        device.kind,
        device.object_id,
        device.device,
        period_start=period.start,
        is_daily=period.is_daily,
        device_type_id=device.device_type,
        operation_type_id=device.operation_type,
        product_type_id=device.product_type,
        pipeline_id=device.pipeline,
        values={name: str(value) for name, value in ordered.items()},
        device_ok=result.ok,
        registered_at=registered_at,
    )


_ORDER = ("tankLevel", "density", "temperature", "volume", "pressure", "massflowbegin", "massflowend", "mass")
