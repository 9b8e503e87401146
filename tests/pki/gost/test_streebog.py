"""Streebog (GOST R 34.11-2012) through gostcrypto, against RFC 6986 §10 (M1, M2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egsu_core.pki.gost.streebog import new, streebog256, streebog512

# RFC 6986 prints messages and digests as big-endian numbers; these are the byte strings themselves.
M1 = b"012345678901234567890123456789012345678901234567890123456789012"
M2 = "Се ветри, Стрибожи внуци, веютъ с моря стрелами на храбрыя плъкы Игоревы".encode("cp1251")


@pytest.mark.parametrize(
    ("function", "message", "expected"),
    [
        pytest.param(
            streebog512,
            M1,
            "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
            "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48",
            id="512-M1",
        ),
        pytest.param(
            streebog256, M1, "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500", id="256-M1"
        ),
        pytest.param(
            streebog512,
            M2,
            "1e88e62226bfca6f9994f1f2d51569e0daf8475a3b0fe61a5300eee46d961376"
            "035fe83549ada2b8620fcd7c496ce5b33f0cb9dddc2b6460143b03dabac9fb28",
            id="512-M2",
        ),
        pytest.param(
            streebog256, M2, "9dd2fe4e90409e5da87f53976d7405b0c0cac628fc669a741d50063c557e8f50", id="256-M2"
        ),
    ],
)
def test_rfc6986_examples(function, message: bytes, expected: str) -> None:
    assert function(message).hex() == expected


def test_m2_is_the_rfc_byte_string() -> None:
    # the RFC prints M2 reversed; reversing it back gives our cp1251 text
    printed = (
        "fbe2e5f0eee3c820fbeafaebef20fffbf0e1e0f0f520e0ed20e8ece0ebe5f0f2f120fff0eeec20f120faf2fee5e2202c"
        "e8f6f3ede220e8e6eee1e8f0f2d1202ce8f0f2e5e220e5d1"
    )
    assert bytes.fromhex(printed)[::-1] == M2


@pytest.mark.parametrize("bits", [256, 512], ids=["256", "512"])
@settings(max_examples=10, deadline=None)
@given(data=st.binary(max_size=150), cut=st.integers(min_value=0, max_value=150))
def test_incremental_equals_one_shot(bits: int, data: bytes, cut: int) -> None:
    h = new(bits)
    h.update(bytearray(data[:cut]))
    h.update(bytearray(data[cut:]))
    assert bytes(h.digest()) == (streebog256 if bits == 256 else streebog512)(data)


def test_other_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="256 or 512"):
        new(384)
