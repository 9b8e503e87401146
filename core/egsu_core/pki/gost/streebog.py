"""Streebog (GOST R 34.11-2012), the digest of NCA GOST 2015 signatures.

Two implementations with the same results: the compiled ``egsu_core.pki.gost._gosthash`` (ours, about
100 MB/s) when it imports, and gostcrypto (pure Python, about 0.36 MB/s: 44 s for a 15 MB Body,
INT-07, against 10 s per request, INT-08) as the reference and the fallback. ``IMPLEMENTATION``
says which one ``new``/``streebog256``/``streebog512`` use.

Both return the digest in the byte order of the reference implementation (the RFC 6986
examples printed reversed), which is also the order NCA signatures use (shep-notes §3).
"""

from __future__ import annotations

from gostcrypto import gosthash

try:
    from egsu_core.pki.gost import _gosthash
except ImportError:  # not built (no compiler at install time): gostcrypto does the work
    _gosthash = None

IMPLEMENTATION = "native" if _gosthash is not None else "python"
_SIZES = (256, 512)


def _check_size(digest_bits: int) -> None:
    if digest_bits not in _SIZES:
        raise ValueError("Streebog digests are 256 or 512 bits")


def python_new(digest_bits: int, data: bytes = b""):
    """gostcrypto's incremental object (update/digest/copy; digest() gives a bytearray)."""
    _check_size(digest_bits)
    return gosthash.new(f"streebog{digest_bits}", data=bytearray(data))


def native_new(digest_bits: int, data: bytes = b""):
    """The compiled incremental object (update/digest/hexdigest/copy; digest() gives bytes)."""
    _check_size(digest_bits)
    if _gosthash is None:
        raise RuntimeError("the compiled GOST hashes (egsu_core.pki.gost._gosthash) are not built")
    return _gosthash.Streebog(digest_bits, data)


def new(digest_bits: int, data: bytes = b""):
    """An incremental hash object (update/digest/copy) for 256 or 512 bits."""
    if _gosthash is not None:
        return native_new(digest_bits, data)
    return python_new(digest_bits, data)


def streebog256(data: bytes) -> bytes:
    return bytes(new(256, data).digest())


def streebog512(data: bytes) -> bytes:
    return bytes(new(512, data).digest())
