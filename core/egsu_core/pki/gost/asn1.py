"""The few ASN.1 structures asn1crypto has no GOST specs for (its PublicKeyInfo rejects unknown OIDs).

A GOST SubjectPublicKeyInfo is ``SEQUENCE { SEQUENCE { keyOID, SEQUENCE { curveOID, digestOID } },
BIT STRING (OCTET STRING X‖Y) }`` (RFC 4491 §2.3.2 shape; the NCA test certificates follow it).
"""

from __future__ import annotations

from asn1crypto import core


class GostKeyParameters(core.Sequence):
    _fields = [
        ("public_key_param_set", core.ObjectIdentifier),
        ("digest_param_set", core.ObjectIdentifier, {"optional": True}),
        ("encryption_param_set", core.ObjectIdentifier, {"optional": True}),
    ]


class AlgorithmIdentifier(core.Sequence):
    _fields = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class SubjectPublicKeyInfo(core.Sequence):
    _fields = [
        ("algorithm", AlgorithmIdentifier),
        ("public_key", core.OctetBitString),
    ]


class PrivateKeyInfo(core.Sequence):
    """PKCS#8 (RFC 5208) with the key as an OCTET STRING holding the little-endian scalar (RFC 9215 §4)."""

    _fields = [
        ("version", core.Integer),
        ("private_key_algorithm", AlgorithmIdentifier),
        ("private_key", core.OctetString),
    ]
