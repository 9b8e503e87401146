"""Small builders for readings rows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from egsu.readings.store import Quality, ReadingRow, SeriesKey

DAY = datetime(2024, 1, 10, 18, 0, tzinfo=UTC)  # 11 January 2024 00:00 in Astana (UTC+6 then)


def make_row(
    value: str | Decimal = "80.46875",
    *,
    object_id: str = "407001",
    device_id: str = "1",
    quantity: str = "mass",
    interval: str = "P1D",
    period_start: datetime = DAY,
    unit: str = "t",
    quality: str = Quality.GOOD.value,
    source: str = "msg-1",
    commercial: bool = False,
) -> ReadingRow:
    return ReadingRow(
        key=SeriesKey(object_id, device_id, quantity),
        interval=interval,
        period_start=period_start,
        value=Decimal(value),
        unit=unit,
        quality=quality,
        source=source,
        commercial=commercial,
    )
