"""GOST R 34.11-94 against the published test vectors (test and CryptoPro parameter sets)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egsu_core.pki.gost.gost3411_94 import CRYPTOPRO_PARAMSET, GOST341194, TEST_PARAMSET, gost3411_94

FOX = b"The quick brown fox jumps over the lazy dog"

# Published vectors (GOST R 34.11-94; RFC 5831 §7.3 for "abc"/"message digest" style inputs).
TEST_VECTORS = [
    pytest.param(b"", "ce85b99cc46752fffee35cab9a7b0278abb4c2d2055cff685af4912c49490f8d", id="empty"),
    pytest.param(b"a", "d42c539e367c66e9c88a801f6649349c21871b4344c6a573f849fdce62f314dd", id="a"),
    pytest.param(b"abc", "f3134348c44fb1b2a277729e2285ebb5cb5e0f29c975bc753b70497c06a4d51d", id="abc"),
    pytest.param(
        b"message digest",
        "ad4434ecb18f2c99b60cbe59ec3d2469582b65273f48de72db2fde16a4889a4d",
        id="message-digest",
    ),
    pytest.param(FOX, "77b7fa410c9ac58a25f49bca7d0468c9296529315eaca76bd1a10f376d1f4294", id="fox"),
    pytest.param(b"U" * 128, "53a3a3ed25180cef0c1d85a074273e551c25660a87062a52d926a9e8fe5733a4", id="128-U"),
    pytest.param(
        b"a" * 1_000_000, "5c00ccc2734cdd3332d3d4749576e3c1a7dbaf0e7ea74e9fa602413c90a129fa", id="million-a"
    ),
]
CRYPTOPRO_VECTORS = [
    pytest.param(b"", "981e5f3ca30c841487830f84fb433e13ac1101569b9c13584ac483234cd656c0", id="empty"),
    pytest.param(b"a", "e74c52dd282183bf37af0079c9f78055715a103f17e3133ceff1aacf2f403011", id="a"),
    pytest.param(b"abc", "b285056dbf18d7392d7677369524dd14747459ed8143997e163b2986f92fd42c", id="abc"),
    pytest.param(
        b"message digest",
        "bc6041dd2aa401ebfa6e9886734174febdb4729aa972d60f549ac39b29721ba0",
        id="message-digest",
    ),
    pytest.param(FOX, "9004294a361a508c586fe53d1f1b02746765e71b765472786e4770d565830a76", id="fox"),
    pytest.param(b"U" * 128, "1c4ac7614691bbf427fa2316216be8f10d92edfd37cd1027514c1008f649c4e8", id="128-U"),
    pytest.param(
        b"a" * 1_000_000, "8693287aa62f9478f7cb312ec0866b6c4e4a0f11160441e8f4ffcd2715dd554f", id="million-a"
    ),
]


@pytest.mark.parametrize(("message", "expected"), TEST_VECTORS)
def test_test_paramset_vectors(message: bytes, expected: str) -> None:
    # given a published message, when hashed with the NCA ("test") S-box, then the published digest
    assert gost3411_94(message).hex() == expected


@pytest.mark.parametrize(("message", "expected"), CRYPTOPRO_VECTORS)
def test_cryptopro_paramset_vectors(message: bytes, expected: str) -> None:
    assert gost3411_94(message, CRYPTOPRO_PARAMSET).hex() == expected


def test_the_default_is_the_test_paramset_used_by_the_nca() -> None:
    assert GOST341194().sbox is TEST_PARAMSET
    assert gost3411_94(b"abc") == gost3411_94(b"abc", TEST_PARAMSET)


def test_digest_does_not_consume_the_object() -> None:
    # given a hash object, when digest() is called twice and more data added, then it behaves like hashlib
    h = GOST341194(b"message ")
    first = h.digest()
    assert h.digest() == first == gost3411_94(b"message ")
    h.update(b"digest")
    assert h.hexdigest() == "ad4434ecb18f2c99b60cbe59ec3d2469582b65273f48de72db2fde16a4889a4d"


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=200), cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=5))
def test_incremental_equals_one_shot(data: bytes, cuts: list[int]) -> None:
    # given any message split at arbitrary points, when fed piecewise, then the digest is the one-shot digest
    h = GOST341194()
    previous = 0
    for cut in sorted(min(c, len(data)) for c in cuts):
        h.update(data[previous:cut])
        previous = cut
    h.update(data[previous:])
    assert h.digest() == gost3411_94(data)


@settings(max_examples=20, deadline=None)
@given(prefix=st.binary(max_size=70), a=st.binary(max_size=40), b=st.binary(max_size=40))
def test_copy_forks_the_state(prefix: bytes, a: bytes, b: bytes) -> None:
    h = GOST341194(prefix)
    fork = h.copy()
    h.update(a)
    fork.update(b)
    assert (h.digest(), fork.digest()) == (gost3411_94(prefix + a), gost3411_94(prefix + b))
