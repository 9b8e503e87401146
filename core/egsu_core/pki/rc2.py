"""RC2 (RFC 2268) decryption, for the certificate bags of NCA key stores.

The PKCS#12 files NCA issues encrypt their certificates with ``pbeWithSHA1And40BitRC2-CBC``
(RFC 7292 App. C). ``cryptography`` offers RC2 only with 128-bit keys, and OpenSSL 3 only in
its legacy provider, so the 40-bit variant is done here. Checked against the RFC 2268 §5 test
vectors (tests/pki/keys/test_pkcs12.py). Decryption only: nothing we write uses RC2.
"""

from __future__ import annotations

PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)
_MASK = 0xFFFF
_SHIFTS = (1, 2, 3, 5)


def expand_key(key: bytes, effective_bits: int) -> list[int]:
    """RFC 2268 §2: the 64 16-bit subkeys."""
    if not 1 <= len(key) <= 128:
        raise ValueError("RC2 keys are 1 to 128 bytes")
    t8 = (effective_bits + 7) // 8
    tm = 255 % (1 << (8 + effective_bits - 8 * t8))
    buffer = list(key) + [0] * (128 - len(key))
    for i in range(len(key), 128):
        buffer[i] = PITABLE[(buffer[i - 1] + buffer[i - len(key)]) & 0xFF]
    buffer[128 - t8] = PITABLE[buffer[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        buffer[i] = PITABLE[buffer[i + 1] ^ buffer[i + t8]]
    return [buffer[2 * i] | (buffer[2 * i + 1] << 8) for i in range(64)]


def encrypt_block(subkeys: list[int], block: bytes) -> bytes:
    """RFC 2268 §3 (for the test vectors; decryption is what key stores need)."""
    r = [int.from_bytes(block[2 * i : 2 * i + 2], "little") for i in range(4)]
    j = 0
    for round_ in range(16):
        for i in range(4):
            r[i] = (r[i] + subkeys[j] + (r[i - 1] & r[i - 2]) + (~r[i - 1] & r[i - 3])) & _MASK
            j += 1
            r[i] = ((r[i] << _SHIFTS[i]) | (r[i] >> (16 - _SHIFTS[i]))) & _MASK
        if round_ in (4, 10):
            for i in range(4):
                r[i] = (r[i] + subkeys[r[i - 1] & 63]) & _MASK
    return b"".join(word.to_bytes(2, "little") for word in r)


def decrypt_block(subkeys: list[int], block: bytes) -> bytes:
    """RFC 2268 §4."""
    r = [int.from_bytes(block[2 * i : 2 * i + 2], "little") for i in range(4)]
    j = 63
    for round_ in range(15, -1, -1):
        for i in (3, 2, 1, 0):
            r[i] = ((r[i] >> _SHIFTS[i]) | (r[i] << (16 - _SHIFTS[i]))) & _MASK
            r[i] = (r[i] - subkeys[j] - (r[i - 1] & r[i - 2]) - (~r[i - 1] & r[i - 3])) & _MASK
            j -= 1
        if round_ in (5, 11):
            for i in (3, 2, 1, 0):
                r[i] = (r[i] - subkeys[r[i - 1] & 63]) & _MASK
    return b"".join(word.to_bytes(2, "little") for word in r)


def decrypt_cbc(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """CBC decryption without removing the padding."""
    if len(data) % 8 or len(iv) != 8:
        raise ValueError("RC2-CBC data must be whole 8-byte blocks with an 8-byte IV")
    subkeys = expand_key(key, effective_bits)
    out, previous = bytearray(), iv
    for offset in range(0, len(data), 8):
        block = data[offset : offset + 8]
        plain = decrypt_block(subkeys, block)
        out += bytes(a ^ b for a, b in zip(plain, previous, strict=True))
        previous = block
    return bytes(out)
