"""Streebog (GOST R 34.11-2012), the digest of NCA GOST 2015 signatures, via gostcrypto.

gostcrypto returns the digest in the byte order of the reference implementation (the RFC 6986
examples printed reversed), which is also the order NCA signatures use (shep-notes §3).
"""

from __future__ import annotations

from gostcrypto import gosthash


def new(digest_bits: int, data: bytes = b""):
    """An incremental hash object (update/digest/copy) for 256 or 512 bits."""
    if digest_bits not in (256, 512):
        raise ValueError("Streebog digests are 256 or 512 bits")
    return gosthash.new(f"streebog{digest_bits}", data=bytearray(data))


def streebog256(data: bytes) -> bytes:
    return bytes(new(256, data).digest())


def streebog512(data: bytes) -> bytes:
    return bytes(new(512, data).digest())
