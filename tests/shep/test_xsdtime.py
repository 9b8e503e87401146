"""xsd:dateTime reading: strict lexical form, offsets kept, no offset means Astana time (INT-37)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu_core.clock import format_astana
from egsu_core.shep.xsdtime import parse_xsd_datetime

# hypothesis takes naive bounds and attaches the zone itself
EARLIEST = datetime(2000, 1, 1)  # noqa: DTZ001
LATEST = datetime(2100, 1, 1)  # noqa: DTZ001

PLUS6 = timezone(timedelta(hours=6))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "2024-01-18T18:13:25.583+06:00",
            datetime(2024, 1, 18, 18, 13, 25, 583000, tzinfo=PLUS6),
            id="isun-client",
        ),
        pytest.param(
            "2024-01-11T13:00:00.000+00:00", datetime(2024, 1, 11, 13, tzinfo=UTC), id="zero-offset"
        ),
        pytest.param("2024-01-11T13:00:00Z", datetime(2024, 1, 11, 13, tzinfo=UTC), id="zulu"),
        pytest.param(
            "2024-01-11T13:00:00-03:30", datetime(2024, 1, 11, 16, 30, tzinfo=UTC), id="negative-offset"
        ),
        pytest.param(
            "2024-01-18T18:13:25",
            datetime(2024, 1, 18, 12, 13, 25, tzinfo=UTC),
            id="no-offset-before-2024-03",
        ),
        pytest.param(
            "2024-03-02T10:00:00", datetime(2024, 3, 2, 5, tzinfo=UTC), id="no-offset-after-2024-03"
        ),
        pytest.param("2024-01-18T24:00:00Z", datetime(2024, 1, 19, tzinfo=UTC), id="end-of-day"),
        pytest.param(
            "2024-01-18T10:00:00.123456789Z",
            datetime(2024, 1, 18, 10, 0, 0, 123456, tzinfo=UTC),
            id="nanoseconds-truncated",
        ),
    ],
)
def test_valid_datetimes_read_as_the_same_instant(text, expected):
    parsed = parse_xsd_datetime(text)

    assert parsed == expected
    assert parsed.tzinfo is not None


def test_the_senders_offset_is_kept():
    assert parse_xsd_datetime("2024-01-18T18:13:25.583+06:00").utcoffset() == timedelta(hours=6)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2024-13-01T00:00:00", id="month-13"),
        pytest.param("2024-02-30T00:00:00", id="february-30"),
        pytest.param("2024-01-18", id="date-only"),
        pytest.param("2024-01-18 10:00:00", id="space-separator"),
        pytest.param("20240118T100000", id="basic-format"),
        pytest.param("2024-01-18T10:00", id="no-seconds"),
        pytest.param("2024-01-18T25:00:00", id="hour-25"),
        pytest.param("2024-01-18T24:00:01", id="hour-24-not-midnight"),
        pytest.param("2024-01-18T10:00:00+15:00", id="offset-too-large"),
        pytest.param("2024-01-18T10:00:00+05:60", id="offset-minutes"),
        pytest.param("0001-01-01T00:00:00", id="before-utc-representable"),
        pytest.param("9999-12-31T24:00:00Z", id="after-representable"),
        pytest.param("２０２４-01-18T10:00:00Z", id="fullwidth-digits"),
        pytest.param("", id="empty"),
    ],
)
def test_invalid_datetimes_raise_value_error(text):
    with pytest.raises(ValueError):
        parse_xsd_datetime(text)


@given(st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(UTC)))
def test_what_the_gateway_writes_reads_back_to_the_millisecond(moment):
    written = format_astana(moment)

    assert parse_xsd_datetime(written) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
