"""The compiled GOST hashes (egsu_core.pki.gost._gosthash) against the published vectors and the pure code.

Issue 4: the pure-Python hashes are too slow for a 15 MB Body (INT-07, INT-08), so a compiled
implementation does the work; the pure modules stay the reference it must agree with everywhere.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egsu_core.pki.gost import gost3411_94 as gost94
from egsu_core.pki.gost import streebog
from tests.pki.gost.test_gost3411_94 import CRYPTOPRO_VECTORS, TEST_VECTORS
from tests.pki.gost.test_streebog import M1, M2

needs_native = pytest.mark.skipif(
    gost94._gosthash is None,
    reason="egsu_core.pki.gost._gosthash is not built (run `pip install --no-deps -e .`)",
)

SBOXES = [
    pytest.param(gost94.TEST_PARAMSET, id="test"),
    pytest.param(gost94.CRYPTOPRO_PARAMSET, id="cryptopro"),
]
GOST94_IMPLEMENTATIONS = [
    pytest.param(gost94.PythonGOST341194, id="python"),
    pytest.param(getattr(gost94, "NativeGOST341194", None), id="native", marks=needs_native),
]
STREEBOG_IMPLEMENTATIONS = [
    pytest.param(streebog.python_new, id="python"),
    pytest.param(streebog.native_new, id="native", marks=needs_native),
]
# RFC 6986 §10 (messages and digests as byte strings, i.e. the printed numbers reversed).
STREEBOG_VECTORS = [
    pytest.param(
        512,
        M1,
        "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
        "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48",
        id="512-M1",
    ),
    pytest.param(256, M1, "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500", id="256-M1"),
    pytest.param(
        512,
        M2,
        "1e88e62226bfca6f9994f1f2d51569e0daf8475a3b0fe61a5300eee46d961376"
        "035fe83549ada2b8620fcd7c496ce5b33f0cb9dddc2b6460143b03dabac9fb28",
        id="512-M2",
    ),
    pytest.param(256, M2, "9dd2fe4e90409e5da87f53976d7405b0c0cac628fc669a741d50063c557e8f50", id="256-M2"),
]
# Around the block sizes (32 and 64 bytes) and the size above which the GIL is released.
LENGTHS = [0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 2047, 2048, 2049, 4113]


def _bytes(length: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(length)


def test_the_extension_is_built_and_active() -> None:
    # given an install by `make install` on a machine with gcc, then the compiled hashes are in use
    assert (gost94.IMPLEMENTATION, streebog.IMPLEMENTATION) == ("native", "native"), (
        "egsu_core.pki.gost._gosthash did not import: the GOST hashes run in pure Python "
        "(about 1 MB/s); rebuild with `.venv/bin/pip install --no-deps -e .`"
    )
    assert gost94.GOST341194 is gost94.NativeGOST341194


# ---------------------------------------------------------------- published vectors, both implementations


@pytest.mark.parametrize("implementation", GOST94_IMPLEMENTATIONS)
@pytest.mark.parametrize(("message", "expected"), TEST_VECTORS)
def test_gost94_test_paramset_vectors(implementation, message: bytes, expected: str) -> None:
    # given a published message, when hashed with the NCA ("test") S-box, then the published digest
    assert implementation(message, gost94.TEST_PARAMSET).hexdigest() == expected


@pytest.mark.parametrize("implementation", GOST94_IMPLEMENTATIONS)
@pytest.mark.parametrize(("message", "expected"), CRYPTOPRO_VECTORS)
def test_gost94_cryptopro_paramset_vectors(implementation, message: bytes, expected: str) -> None:
    assert implementation(message, gost94.CRYPTOPRO_PARAMSET).hexdigest() == expected


@pytest.mark.parametrize("implementation", STREEBOG_IMPLEMENTATIONS)
@pytest.mark.parametrize(("bits", "message", "expected"), STREEBOG_VECTORS)
def test_streebog_rfc6986_vectors(implementation, bits: int, message: bytes, expected: str) -> None:
    assert bytes(implementation(bits, message).digest()).hex() == expected


# ---------------------------------------------------------------- native == python


@needs_native
@pytest.mark.parametrize("sbox", SBOXES)
@pytest.mark.parametrize("length", LENGTHS, ids=[f"len{n}" for n in LENGTHS])
def test_gost94_native_equals_python_around_block_boundaries(sbox, length: int) -> None:
    data = _bytes(length, seed=length)
    assert gost94.NativeGOST341194(data, sbox).digest() == gost94.python_gost3411_94(data, sbox)


@needs_native
@pytest.mark.parametrize("bits", [256, 512], ids=["256", "512"])
@pytest.mark.parametrize("length", LENGTHS, ids=[f"len{n}" for n in LENGTHS])
def test_streebog_native_equals_python_around_block_boundaries(bits: int, length: int) -> None:
    data = _bytes(length, seed=length)
    assert streebog.native_new(bits, data).digest() == bytes(streebog.python_new(bits, data).digest())


@needs_native
@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300), cryptopro=st.booleans())
def test_gost94_native_equals_python_on_any_input(data: bytes, cryptopro: bool) -> None:
    sbox = gost94.CRYPTOPRO_PARAMSET if cryptopro else gost94.TEST_PARAMSET
    assert gost94.gost3411_94(data, sbox) == gost94.python_gost3411_94(data, sbox)


@needs_native
@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300), bits=st.sampled_from([256, 512]))
def test_streebog_native_equals_python_on_any_input(data: bytes, bits: int) -> None:
    assert streebog.native_new(bits, data).digest() == bytes(streebog.python_new(bits, data).digest())


# ---------------------------------------------------------------- incremental == one-shot, copy, inputs


def _pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(min(c, len(data)) for c in cuts)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


@needs_native
@settings(max_examples=50, deadline=None)
@given(
    data=st.binary(min_size=0, max_size=5000),
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=6),
)
def test_native_incremental_equals_one_shot(data: bytes, cuts: list[int]) -> None:
    # given any message split anywhere (pieces above and below the GIL-free size), when fed piecewise,
    # then every hash gives its one-shot digest
    hashes = [gost94.NativeGOST341194(), streebog.native_new(256), streebog.native_new(512)]
    for piece in _pieces(data, cuts):
        for h in hashes:
            h.update(piece)
    assert [h.digest() for h in hashes] == [
        gost94.gost3411_94(data),
        streebog.native_new(256, data).digest(),
        streebog.native_new(512, data).digest(),
    ]


@needs_native
@settings(max_examples=30, deadline=None)
@given(prefix=st.binary(max_size=3000), a=st.binary(max_size=100), b=st.binary(max_size=100))
def test_native_copy_forks_the_state(prefix: bytes, a: bytes, b: bytes) -> None:
    for new, one_shot in [
        (gost94.NativeGOST341194, gost94.python_gost3411_94),
        (lambda d: streebog.native_new(512, d), lambda d: bytes(streebog.python_new(512, d).digest())),
    ]:
        h = new(prefix)
        fork = h.copy()
        h.update(a)
        fork.update(b)
        assert (h.digest(), fork.digest()) == (one_shot(prefix + a), one_shot(prefix + b))


@needs_native
def test_native_digest_does_not_consume_and_keeps_the_hashlib_shape() -> None:
    # given a native object, when digest() is called twice and more data added, then it behaves like hashlib
    h = gost94.NativeGOST341194(b"message ")
    assert h.digest() == h.digest() == gost94.python_gost3411_94(b"message ")
    h.update(b"digest")
    assert h.hexdigest() == "ad4434ecb18f2c99b60cbe59ec3d2469582b65273f48de72db2fde16a4889a4d"
    assert (h.name, h.digest_size, h.block_size, h.sbox) == (
        "gost3411-94-test",
        32,
        32,
        gost94.TEST_PARAMSET,
    )
    s = streebog.native_new(256, M1)
    assert (s.name, s.digest_size, s.block_size) == ("streebog256", 32, 64)
    assert (
        s.hexdigest()
        == s.digest().hex()
        == "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"
    )
    assert streebog.native_new(512).digest_size == 64


@needs_native
@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(bytes, id="bytes"),
        pytest.param(bytearray, id="bytearray"),
        pytest.param(memoryview, id="memoryview"),
    ],
)
def test_native_takes_any_contiguous_buffer(wrap) -> None:
    data = _bytes(3000, seed=7)
    assert gost94.gost3411_94(wrap(data)) == gost94.python_gost3411_94(data)
    assert streebog.streebog512(wrap(data)) == bytes(streebog.python_new(512, data).digest())


@needs_native
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(
            lambda: gost94.NativeGOST341194().update("text"), TypeError, "bytes-like", id="str-data"
        ),
        pytest.param(
            lambda: streebog.native_new(512).update("text"), TypeError, "bytes-like", id="str-streebog"
        ),
        pytest.param(lambda: gost94._gosthash.GOST94(bytes(127)), ValueError, "128 bytes", id="short-sbox"),
        pytest.param(lambda: gost94._gosthash.GOST94(bytes([16]) * 128), ValueError, "nibble", id="bad-sbox"),
        pytest.param(lambda: gost94._gosthash.Streebog(384), ValueError, "256 or 512", id="size-384"),
        pytest.param(lambda: streebog.native_new(384), ValueError, "256 or 512", id="size-384-wrapper"),
    ],
)
def test_native_refuses_bad_arguments(call, error, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------- threads


def _longest_stall_while(work) -> tuple[float, float]:
    """Run work() in a thread; return (longest gap the main thread saw, how long work took)."""
    finished = threading.Event()
    took = []

    def run() -> None:
        started = time.perf_counter()
        work()
        took.append(time.perf_counter() - started)
        finished.set()

    thread = threading.Thread(target=run)
    last = time.perf_counter()
    longest = 0.0
    thread.start()
    while not finished.is_set():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    thread.join()
    return longest, took[0]


@needs_native
@pytest.mark.parametrize(
    "work",
    [
        pytest.param(lambda data: gost94.gost3411_94(data), id="gost94"),
        pytest.param(lambda data: streebog.streebog512(data), id="streebog512"),
    ],
)
def test_large_updates_release_the_gil(work) -> None:
    # given 6 MiB to hash in another thread, when the main thread keeps running Python meanwhile,
    # then it is never stalled for most of the hash (it would be for all of it with the GIL held)
    data = _bytes(6 << 20, seed=1)
    longest, took = _longest_stall_while(lambda: work(data))
    assert longest < took / 2, f"main thread stalled {longest:.3f} s of a {took:.3f} s hash"


@needs_native
def test_threads_sharing_one_object_keep_it_consistent() -> None:
    # given one object fed the same 8 KiB chunk by four threads, then the result is the hash of 4 × 64 chunks
    chunk = _bytes(8192, seed=3)
    for h, one_shot in [
        (gost94.NativeGOST341194(), gost94.gost3411_94),
        (streebog.native_new(512), streebog.streebog512),
    ]:

        def feed(h=h) -> None:
            for _ in range(64):
                h.update(chunk)

        threads = [threading.Thread(target=feed) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert h.digest() == one_shot(chunk * 256)
