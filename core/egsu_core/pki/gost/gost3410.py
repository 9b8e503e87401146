"""GOST R 34.10 signatures as the NCA of Kazakhstan uses them: keys, signing and verification.

Two layers:

* the primitive of the standard (``sign_e``/``verify_e`` on integers), checked against the
  examples of GOST R 34.10-2001 (RFC 5832) and GOST R 34.10-2012 (RFC 7091 / Appendix A);
* the NCA wrapping (shep-notes §3, verified on the real NCA test CA certificates and CRLs):
  public key ``X‖Y`` and signature ``r‖s``, every number little-endian, and
  ``e = int.from_bytes(digest, "little")`` where ``digest`` is the hash in its usual byte order.

Private keys for our test PKI and the agent are stored as unencrypted PKCS#8 (RFC 5208) with the
GOST AlgorithmIdentifier of the certificate and the scalar as a little-endian OCTET STRING
inside the privateKey OCTET STRING (the RFC 9215 layout), PEM label ``PRIVATE KEY``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import core, pem

from egsu_core.pki.algorithms import BadSignature, UnsupportedAlgorithm
from egsu_core.pki.gost import asn1
from egsu_core.pki.gost.curves import CURVES_BY_OID, AffinePoint, Curve, CurveError
from egsu_core.pki.gost.gost3411_94 import gost3411_94
from egsu_core.pki.gost.streebog import streebog256, streebog512


@dataclass(frozen=True)
class GostScheme:
    """One NCA GOST signature scheme: key type, signature OID, digest and default parameters."""

    name: str
    key_oid: str
    signature_oid: str
    digest_oid: str
    digest: Callable[[bytes], bytes]
    size: int  # bytes per coordinate and per half of the signature
    curve_oid: str  # what we put in the certificates we issue
    digest_param_oid: str
    verified: bool  # verified against a real NCA artefact (shep-notes §3)

    @property
    def curve(self) -> Curve:
        return CURVES_BY_OID[self.curve_oid]


GOST2004 = GostScheme(
    name="GOST 34.310-2004",
    key_oid="1.2.398.3.10.1.1.1.1",
    signature_oid="1.2.398.3.10.1.1.1.2",
    digest_oid="1.2.398.3.10.1.3.1",
    digest=gost3411_94,
    size=32,
    curve_oid="1.2.398.3.10.1.1.1.1.1",
    digest_param_oid="1.2.398.3.10.1.3.1.1.0",
    verified=True,
)
GOST2015_512 = GostScheme(
    name="GOST 2015-512",
    key_oid="1.2.398.3.10.1.1.2.2",
    signature_oid="1.2.398.3.10.1.1.2.3.2",
    digest_oid="1.2.398.3.10.1.3.3",
    digest=streebog512,
    size=64,
    curve_oid="1.2.398.3.10.1.1.2.2.1",
    digest_param_oid="1.2.398.3.10.1.3.3",
    verified=True,
)
# Curve and key-parameter layout by analogy with 2015-512 and third-party code: NOT verified
# against a real NCA artefact (none is public).
GOST2015_256 = GostScheme(
    name="GOST 2015-256",
    key_oid="1.2.398.3.10.1.1.2.1",
    signature_oid="1.2.398.3.10.1.1.2.3.1",
    digest_oid="1.2.398.3.10.1.3.2",
    digest=streebog256,
    size=32,
    curve_oid="1.2.398.3.10.1.1.2.1.1",
    digest_param_oid="1.2.398.3.10.1.3.2",
    verified=False,
)
SCHEMES_BY_KEY_OID = {scheme.key_oid: scheme for scheme in (GOST2004, GOST2015_512, GOST2015_256)}


# ---------------------------------------------------------------- the primitive (GOST R 34.10 §6)


def e_from_digest(digest: bytes, q: int) -> int:
    """e = α mod q, α read little-endian (NCA, shep-notes §3); e = 1 when that is 0."""
    return int.from_bytes(digest, "little") % q or 1


def sign_e(curve: Curve, d: int, e: int, k: int | None = None) -> tuple[int, int]:
    """Sign the integer e with private scalar d; k only for published examples."""
    q = curve.q
    e = e % q or 1
    while True:
        nonce = k if k is not None else secrets.randbelow(q - 1) + 1
        point = curve.multiply_base(nonce)
        assert point is not None  # 0 < nonce < q
        r = point[0] % q
        s = (r * d + nonce * e) % q
        if r and s:
            return r, s
        if k is not None:
            raise ValueError("the given k yields r = 0 or s = 0")


def verify_e(curve: Curve, public: AffinePoint, e: int, r: int, s: int) -> bool:
    q = curve.q
    if not (0 < r < q and 0 < s < q):
        return False
    e = e % q or 1
    v = pow(e, -1, q)
    point = curve.combine(s * v % q, -r * v % q, public)
    return point is not None and point[0] % q == r


# ---------------------------------------------------------------- keys


@dataclass(frozen=True)
class GostPublicKey:
    scheme: GostScheme
    curve_oid: str
    digest_param_oid: str | None
    point: AffinePoint

    @property
    def curve(self) -> Curve:
        return CURVES_BY_OID[self.curve_oid]

    @classmethod
    def from_spki(cls, spki_der: bytes) -> GostPublicKey:
        """Read a GOST SubjectPublicKeyInfo; unknown key or curve OIDs raise UnsupportedAlgorithm."""
        try:
            info = asn1.SubjectPublicKeyInfo.load(spki_der)
            key_oid = info["algorithm"]["algorithm"].dotted
            scheme = SCHEMES_BY_KEY_OID.get(key_oid)
            if scheme is None:
                raise UnsupportedAlgorithm(f"public key algorithm {key_oid} is not a GOST key we support")
            raw_parameters = info["algorithm"]["parameters"]
            if raw_parameters.native is None:
                raise UnsupportedAlgorithm("a GOST public key without curve parameters")
            parameters = asn1.GostKeyParameters.load(raw_parameters.dump())
            curve_oid = parameters["public_key_param_set"].dotted
            digest_param = parameters["digest_param_set"]
            digest_param_oid = digest_param.dotted if digest_param.native is not None else None
            key_octets = core.OctetString.load(info["public_key"].native).native
        except UnsupportedAlgorithm:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise BadSignature(f"malformed GOST public key: {exc}") from exc
        curve = CURVES_BY_OID.get(curve_oid)
        if curve is None:
            raise UnsupportedAlgorithm(f"GOST curve {curve_oid} is not supported")
        if curve.size != scheme.size or len(key_octets) != 2 * scheme.size:
            raise BadSignature(f"a {scheme.name} key must be {2 * scheme.size} bytes on a matching curve")
        point = (
            int.from_bytes(key_octets[: scheme.size], "little"),
            int.from_bytes(key_octets[scheme.size :], "little"),
        )
        try:
            curve.public_point(point)
        except CurveError as exc:
            raise BadSignature(str(exc)) from exc
        return cls(scheme, curve_oid, digest_param_oid, point)

    def to_spki(self) -> bytes:
        return asn1.SubjectPublicKeyInfo(
            {
                "algorithm": _algorithm_identifier(self.scheme, self.curve_oid, self.digest_param_oid),
                "public_key": core.OctetString(self.encode_point()).dump(),
            }
        ).dump()

    def encode_point(self) -> bytes:
        size = self.scheme.size
        return self.point[0].to_bytes(size, "little") + self.point[1].to_bytes(size, "little")

    def verify(self, signature: bytes, data: bytes) -> None:
        """Hash ``data`` with the scheme's digest and check the NCA-encoded signature r‖s."""
        size = self.scheme.size
        if len(signature) != 2 * size:
            raise BadSignature(f"a {self.scheme.name} signature is {2 * size} bytes, got {len(signature)}")
        r = int.from_bytes(signature[:size], "little")
        s = int.from_bytes(signature[size:], "little")
        curve = self.curve
        if not verify_e(curve, self.point, e_from_digest(self.scheme.digest(data), curve.q), r, s):
            raise BadSignature(f"{self.scheme.name} signature does not verify")


@dataclass(frozen=True, repr=False)
class GostPrivateKey:
    scheme: GostScheme
    curve_oid: str
    digest_param_oid: str | None
    d: int

    def __repr__(self) -> str:  # never print the scalar
        return f"GostPrivateKey({self.scheme.name}, curve={self.curve_oid})"

    @property
    def curve(self) -> Curve:
        return CURVES_BY_OID[self.curve_oid]

    @classmethod
    def generate(cls, scheme: GostScheme, curve_oid: str | None = None) -> GostPrivateKey:
        curve_oid = curve_oid or scheme.curve_oid
        curve = CURVES_BY_OID[curve_oid]
        return cls(scheme, curve_oid, scheme.digest_param_oid, secrets.randbelow(curve.q - 1) + 1)

    def public_key(self) -> GostPublicKey:
        point = self.curve.multiply_base(self.d)
        assert point is not None
        return GostPublicKey(self.scheme, self.curve_oid, self.digest_param_oid, point)

    def sign(self, data: bytes) -> bytes:
        """Hash ``data`` and sign; the NCA encoding r‖s, little-endian."""
        curve = self.curve
        r, s = sign_e(curve, self.d, e_from_digest(self.scheme.digest(data), curve.q))
        return r.to_bytes(self.scheme.size, "little") + s.to_bytes(self.scheme.size, "little")

    def to_pkcs8(self) -> bytes:
        inner = core.OctetString(self.d.to_bytes(self.scheme.size, "little")).dump()
        return asn1.PrivateKeyInfo(
            {
                "version": 0,
                "private_key_algorithm": _algorithm_identifier(
                    self.scheme, self.curve_oid, self.digest_param_oid
                ),
                "private_key": inner,
            }
        ).dump()

    def to_pem(self) -> bytes:
        return pem.armor("PRIVATE KEY", self.to_pkcs8())


def load_private_key(data: bytes) -> GostPrivateKey:
    """Read a GOST PKCS#8 key, PEM or DER: ours (little-endian OCTET STRING) or NCA's (INTEGER)."""
    if pem.detect(data):
        label, _, data = pem.unarmor(data)
        if label != "PRIVATE KEY":
            raise ValueError(f"expected a PRIVATE KEY, got {label}")
    info = asn1.PrivateKeyInfo.load(data)
    key_oid = info["private_key_algorithm"]["algorithm"].dotted
    scheme = SCHEMES_BY_KEY_OID.get(key_oid)
    if scheme is None:
        raise UnsupportedAlgorithm(f"private key algorithm {key_oid} is not a GOST key we support")
    parameters = asn1.GostKeyParameters.load(info["private_key_algorithm"]["parameters"].dump())
    curve_oid = parameters["public_key_param_set"].dotted
    if curve_oid not in CURVES_BY_OID:
        raise UnsupportedAlgorithm(f"GOST curve {curve_oid} is not supported")
    digest_param = parameters["digest_param_set"]
    inner = core.load(info["private_key"].native)
    if isinstance(inner, core.Integer):
        d = inner.native  # NCA key stores (Kalkan): the scalar as a plain INTEGER
    else:
        d = int.from_bytes(core.OctetString.load(inner.dump()).native, "little")
    if not 0 < d < CURVES_BY_OID[curve_oid].q:
        raise ValueError("the private scalar is out of range")
    return GostPrivateKey(
        scheme, curve_oid, digest_param.dotted if digest_param.native is not None else None, d
    )


def verify(scheme: GostScheme, spki_der: bytes, signature: bytes, data: bytes) -> None:
    """The algorithm-table entry point: the key must be of this scheme's type (shep-notes §5)."""
    key = GostPublicKey.from_spki(spki_der)
    if key.scheme is not scheme:
        raise BadSignature(f"the key is a {key.scheme.name} key, not {scheme.name}")
    key.verify(signature, data)


def sign(scheme: GostScheme, private_key: object, data: bytes) -> bytes:
    if not isinstance(private_key, GostPrivateKey) or private_key.scheme is not scheme:
        raise UnsupportedAlgorithm(f"{scheme.name} signing needs a {scheme.name} private key")
    return private_key.sign(data)


def _algorithm_identifier(
    scheme: GostScheme, curve_oid: str, digest_param_oid: str | None
) -> asn1.AlgorithmIdentifier:
    parameters = {"public_key_param_set": curve_oid}
    if digest_param_oid:
        parameters["digest_param_set"] = digest_param_oid
    return asn1.AlgorithmIdentifier(
        {"algorithm": scheme.key_oid, "parameters": asn1.GostKeyParameters(parameters)}
    )
