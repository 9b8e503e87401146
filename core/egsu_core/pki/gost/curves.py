"""Short Weierstrass curves for GOST R 34.10 and fast scalar multiplication on them.

gostcrypto's own point arithmetic is affine with a recursive inverse (about 0.3 s per
verification on a 512-bit curve), so the arithmetic lives here: Jacobian coordinates,
a precomputed fixed-window table for the base point (signing is additions only) and a
width-4 window for the public key, so one verification costs ~256 doublings.

The named-curve parameters themselves are read from gostcrypto (they are published in
R 1323565.1.024-2019 / RFC 4357 / RFC 7836); ``Curve.check`` re-verifies them on load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from gostcrypto.gostsignature import CURVES_R_1323565_1_024_2019 as _GOSTCRYPTO_CURVES

# A point in Jacobian coordinates (X, Y, Z) ~ affine (X/Z², Y/Z³); Z == 0 is the point at infinity.
JacobianPoint = tuple[int, int, int]
AffinePoint = tuple[int, int]
_INFINITY: JacobianPoint = (1, 1, 0)
_WINDOW = 4


class CurveError(ValueError):
    """A point or a parameter set is not valid for the curve."""


@dataclass(frozen=True, eq=False)
class Curve:
    """y² = x³ + ax + b over GF(p); the base point (x, y) has prime order q."""

    name: str
    p: int
    a: int
    b: int
    q: int
    x: int
    y: int
    size: int = field(default=0)  # bytes per coordinate / per half of a signature

    def __post_init__(self) -> None:
        if not self.size:
            object.__setattr__(self, "size", (self.q.bit_length() + 7) // 8)

    # ------------------------------------------------------------ validation

    def contains(self, point: AffinePoint) -> bool:
        x, y = point
        return (
            0 <= x < self.p and 0 <= y < self.p and (y * y - (x * x * x + self.a * x + self.b)) % self.p == 0
        )

    def check(self) -> None:
        """The base point lies on the curve and has order q (catches a mistyped parameter)."""
        if not self.contains((self.x, self.y)):
            raise CurveError(f"{self.name}: the base point is not on the curve")
        if self._to_affine(self._multiply_window(self.q, (self.x, self.y))) is not None:
            raise CurveError(f"{self.name}: the base point does not have order q")

    @cached_property
    def cofactor(self) -> int:
        return (self.p + 1 + self.q // 2) // self.q

    def public_point(self, point: AffinePoint) -> AffinePoint:
        """Validate a public key point: on the curve, and in the order-q subgroup when the cofactor is not 1."""
        if not self.contains(point):
            raise CurveError(f"the public key is not a point of {self.name}")
        if self.cofactor != 1 and self._to_affine(self._multiply_window(self.q, point)) is not None:
            raise CurveError(f"the public key is not in the prime-order subgroup of {self.name}")
        return point

    # ------------------------------------------------------------ Jacobian arithmetic

    def _double(self, point: JacobianPoint) -> JacobianPoint:
        x1, y1, z1 = point
        if not z1 or not y1:
            return _INFINITY
        p = self.p
        yy = y1 * y1 % p
        zz = z1 * z1 % p
        s = 4 * x1 * yy % p
        if self._a_is_minus_3:
            m = 3 * (x1 - zz) * (x1 + zz) % p
        else:
            m = (3 * x1 * x1 + self.a * zz * zz) % p
        x3 = (m * m - 2 * s) % p
        y3 = (m * (s - x3) - 8 * yy * yy) % p
        z3 = 2 * y1 * z1 % p
        return x3, y3, z3

    def _add_affine(self, point: JacobianPoint, other: AffinePoint) -> JacobianPoint:
        """Mixed addition: Jacobian + affine (the precomputed tables are affine)."""
        x1, y1, z1 = point
        if not z1:
            return other[0], other[1], 1
        p = self.p
        x2, y2 = other
        z1z1 = z1 * z1 % p
        h = (x2 * z1z1 - x1) % p
        r = (y2 * z1 * z1z1 - y1) % p
        if not h:
            return self._double(point) if not r else _INFINITY
        hh = h * h % p
        hhh = h * hh % p
        v = x1 * hh % p
        x3 = (r * r - hhh - 2 * v) % p
        y3 = (r * (v - x3) - y1 * hhh) % p
        return x3, y3, z1 * h % p

    def _add(self, point: JacobianPoint, other: JacobianPoint) -> JacobianPoint:
        x2, y2, z2 = other
        if not z2:
            return point
        x1, y1, z1 = point
        if not z1:
            return other
        p = self.p
        z1z1 = z1 * z1 % p
        z2z2 = z2 * z2 % p
        u1 = x1 * z2z2 % p
        u2 = x2 * z1z1 % p
        s1 = y1 * z2 * z2z2 % p
        s2 = y2 * z1 * z1z1 % p
        h = (u2 - u1) % p
        r = (s2 - s1) % p
        if not h:
            return self._double(point) if not r else _INFINITY
        hh = h * h % p
        hhh = h * hh % p
        v = u1 * hh % p
        x3 = (r * r - hhh - 2 * v) % p
        y3 = (r * (v - x3) - s1 * hhh) % p
        return x3, y3, z1 * z2 * h % p

    def _to_affine(self, point: JacobianPoint) -> AffinePoint | None:
        x, y, z = point
        if not z:
            return None
        p = self.p
        zi = pow(z, -1, p)
        zi2 = zi * zi % p
        return x * zi2 % p, y * zi2 * zi % p

    @cached_property
    def _a_is_minus_3(self) -> bool:
        return (self.a + 3) % self.p == 0

    @cached_property
    def _base_table(self) -> tuple[tuple[AffinePoint | None, ...], ...]:
        """For every 4-bit window i of a scalar: j·16^i·G for j = 0..15, affine."""
        windows = (self.q.bit_length() + _WINDOW - 1) // _WINDOW
        table = []
        base: JacobianPoint = (self.x, self.y, 1)
        for _ in range(windows):
            row: list[AffinePoint | None] = [None]
            acc = _INFINITY
            for _ in range(1, 1 << _WINDOW):
                acc = self._add(acc, base)
                row.append(self._to_affine(acc))
            table.append(tuple(row))
            for _ in range(_WINDOW):
                base = self._double(base)
        return tuple(table)

    def _multiply_base(self, k: int) -> JacobianPoint:
        acc = _INFINITY
        for row in self._base_table:
            digit = k & 0xF
            if digit:
                acc = self._add_affine(acc, row[digit])
            k >>= _WINDOW
        return acc

    def _multiply_window(self, k: int, point: AffinePoint) -> JacobianPoint:
        """k·P with a fixed 4-bit window over 15 precomputed multiples of P."""
        start: JacobianPoint = (point[0], point[1], 1)
        multiples = [_INFINITY, start]
        for _ in range(2, 1 << _WINDOW):
            multiples.append(self._add(multiples[-1], start))
        acc = _INFINITY
        for shift in range(((k.bit_length() + _WINDOW - 1) // _WINDOW - 1) * _WINDOW, -1, -_WINDOW):
            for _ in range(_WINDOW):
                acc = self._double(acc)
            digit = (k >> shift) & 0xF
            if digit:
                acc = self._add(acc, multiples[digit])
        return acc

    # ------------------------------------------------------------ public operations

    def multiply_base(self, k: int) -> AffinePoint | None:
        """k·G (key generation, signing)."""
        return self._to_affine(self._multiply_base(k % self.q))

    def multiply(self, k: int, point: AffinePoint) -> AffinePoint | None:
        return self._to_affine(self._multiply_window(k, point))

    def combine(self, k1: int, k2: int, point: AffinePoint) -> AffinePoint | None:
        """k1·G + k2·P, the verification equation."""
        return self._to_affine(self._add(self._multiply_base(k1 % self.q), self._multiply_window(k2, point)))


def _from_gostcrypto(name: str, gostcrypto_name: str) -> Curve:
    params = _GOSTCRYPTO_CURVES[gostcrypto_name]
    # Twisted Edwards sets (TC26-256-A, TC26-512-C) also carry their Weierstrass a, b, x, y.
    return Curve(name, params["p"], params["a"], params["b"], params["q"], params["x"], params["y"])


# GOST 34.310-2004 keys (shep-notes §3, verified on the NCA test certificates): CryptoPro-A, which
# TC26 later renamed id-tc26-gost-3410-2012-256-paramSetB.
CRYPTOPRO_A = _from_gostcrypto("CryptoPro-A", "id-tc26-gost-3410-2012-256-paramSetB")
# GOST 2015-512 keys (shep-notes §3, verified on the NCA GOST 2022 test CRL).
TC26_512_A = _from_gostcrypto("TC26-512-A", "id-tc26-gost-3410-12-512-paramSetA")
# GOST 2015-256 keys: third-party code maps 1.2.398.3.10.1.1.2.1.1 here. NOT verified against an NCA artefact.
TC26_256_A = _from_gostcrypto("TC26-256-A", "id-tc26-gost-3410-2012-256-paramSetA")

# SubjectPublicKeyInfo curve-parameter OIDs, Kazakh and the international ones they alias.
CURVES_BY_OID: dict[str, Curve] = {
    "1.2.398.3.10.1.1.1.1.1": CRYPTOPRO_A,  # NCA GOST 2004 (test certificates)
    "1.2.643.2.2.35.1": CRYPTOPRO_A,  # id-GostR3410-2001-CryptoPro-A-ParamSet
    "1.2.643.7.1.2.1.1.2": CRYPTOPRO_A,  # id-tc26-gost-3410-2012-256-paramSetB
    "1.2.398.3.10.1.1.2.2.1": TC26_512_A,  # NCA GOST 2015-512 (test CA 2022)
    "1.2.643.7.1.2.1.2.1": TC26_512_A,  # id-tc26-gost-3410-12-512-paramSetA
    "1.2.398.3.10.1.1.2.1.1": TC26_256_A,  # NCA GOST 2015-256 (not verified)
    "1.2.643.7.1.2.1.1.1": TC26_256_A,  # id-tc26-gost-3410-2012-256-paramSetA
}
