"""egsu.compact_json writes the standard library's compact JSON byte for byte (an AMI batch's digest
depends on it: a replay must keep its digest across releases)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egsu.compact_json import NotEncodable, dumps

_SCALARS = st.none() | st.booleans() | st.integers() | st.text()
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


def _standard(obj, default=None) -> bytes:
    return json.dumps(obj, default=default, separators=(",", ":"), ensure_ascii=False).encode()


@settings(max_examples=400, deadline=None)
@given(_DOCUMENTS)
def test_the_same_bytes_as_the_standard_library(document):
    try:
        expected = _standard(document)
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for it
        with pytest.raises(NotEncodable):
            dumps(document)
        return
    assert dumps(document) == expected


def test_what_orjson_refuses_goes_through_the_standard_library():
    document = {
        "big": 2**80,
        "small": -(2**70),
        "values": [Decimal("1.50")],
        "at": datetime(2025, 6, 2, 19, tzinfo=UTC),
    }
    assert dumps(document, default=str) == _standard(document, default=str)


def test_a_lone_surrogate_is_not_encodable():
    with pytest.raises(NotEncodable, match="not Unicode"):
        dumps(["meter", "\ud800"])
