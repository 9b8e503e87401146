"""GOST R 34.10 primitive against the published examples, then the NCA byte conventions and keys."""

from __future__ import annotations

import gostcrypto.gostsignature as gostcrypto_signature
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egsu_core.pki.algorithms import BadSignature, UnsupportedAlgorithm
from egsu_core.pki.gost import asn1, gost3410
from egsu_core.pki.gost.curves import CRYPTOPRO_A, CURVES_BY_OID, TC26_256_A, TC26_512_A, Curve, CurveError
from egsu_core.pki.gost.gost3410 import (
    GOST2004,
    GOST2015_256,
    GOST2015_512,
    GostPrivateKey,
    GostPublicKey,
    e_from_digest,
    load_private_key,
    sign_e,
    verify_e,
)

# GOST R 34.10-2001 example (RFC 5832 §7), identical in GOST R 34.10-2012 Appendix A.1 (RFC 7091 §7.1).
EXAMPLE_256 = dict(
    curve=Curve(
        "34.10 example 256",
        p=57896044618658097711785492504343953926634992332820282019728792003956564821041,
        a=7,
        b=43308876546767276905765904595650931995942111794451039583252968842033849580414,
        q=57896044618658097711785492504343953927082934583725450622380973592137631069619,
        x=2,
        y=4018974056539037503335449422937059775635739389905545080690979365213431566280,
    ),
    d=55441196065363246126355624130324183196576709222340016572108097750006097525544,
    e=20798893674476452017134061561508270130637142515379653289952617252661468872421,
    k=53854137677348463731403841147996619241504003434302020712960838528893196233395,
    r=29700980915817952874371204983938256990422752107994319651632687982059210933395,
    s=574973400270084654178925310019147038455227042649098563933718999175515839552,
    qx=57520216126176808443631405023338071176630104906313632182896741342206604859403,
    qy=17614944419213781543809391949654080031942662045363639260709847859438286763994,
)
# GOST R 34.10-2012 Appendix A.2 (512-bit example).
EXAMPLE_512 = dict(
    curve=Curve(
        "34.10 example 512",
        p=int(
            "4531acd1fe0023c7550d267b6b2fee80922b14b2ffb90f04d4eb7c09b5d2d15d"
            "f1d852741af4704a0458047e80e4546d35b8336fac224dd81664bbf528be6373",
            16,
        ),
        a=7,
        b=int(
            "1cff0806a31116da29d8cfa54e57eb748bc5f377e49400fdd788b649eca1ac43"
            "61834013b2ad7322480a89ca58e0cf74bc9e540c2add6897fad0a3084f302adc",
            16,
        ),
        q=int(
            "4531acd1fe0023c7550d267b6b2fee80922b14b2ffb90f04d4eb7c09b5d2d15d"
            "a82f2d7ecb1dbac719905c5eecc423f1d86e25edbe23c595d644aaf187e6e6df",
            16,
        ),
        x=int(
            "24d19cc64572ee30f396bf6ebbfd7a6c5213b3b3d7057cc825f91093a68cd762"
            "fd60611262cd838dc6b60aa7eee804e28bc849977fac33b4b530f1b120248a9a",
            16,
        ),
        y=int(
            "2bb312a43bd2ce6e0d020613c857acddcfbf061e91e5f2c3f32447c259f39b2c"
            "83ab156d77f1496bf7eb3351e1ee4e43dc1a18b91b24640b6dbb92cb1add371e",
            16,
        ),
    ),
    d=int(
        "0ba6048aadae241ba40936d47756d7c93091a0e8514669700ee7508e508b1020"
        "72e8123b2200a0563322dad2827e2714a2636b7bfd18aadfc62967821fa18dd4",
        16,
    ),
    e=int(
        "3754f3cfacc9e0615c4f4a7c4d8dab531b09b6f9c170c533a71d147035b0c591"
        "7184ee536593f4414339976c647c5d5a407adedb1d560c4fc6777d2972075b8c",
        16,
    ),
    k=int(
        "0359e7f4b1410feacc570456c6801496946312120b39d019d455986e364f3658"
        "86748ed7a44b3e794434006011842286212273a6d14cf70ea3af71bb1ae679f1",
        16,
    ),
    r=int(
        "2f86fa60a081091a23dd795e1e3c689ee512a3c82ee0dcc2643c78eea8fcacd3"
        "5492558486b20f1c9ec197c90699850260c93bcbcd9c5c3317e19344e173ae36",
        16,
    ),
    s=int(
        "1081b394696ffe8e6585e7a9362d26b6325f56778aadbc081c0bfbe933d52ff5"
        "823ce288e8c4f362526080df7f70ce406a6eeb1f56919cb92a9853bde73e5b4a",
        16,
    ),
    qx=int(
        "115dc5bc96760c7b48598d8ab9e740d4c4a85a65be33c1815b5c320c854621dd"
        "5a515856d13314af69bc5b924c8b4ddff75c45415c1d9dd9dd33612cd530efe1",
        16,
    ),
    qy=int(
        "37c7c90cd40b0f5621dc3ac1b751cfa0e2634fa0503b3d52639f5d7fb72afd61"
        "ea199441d943ffe7f0c70a2759a3cdb84c114e1f9339fdf27f35eca93677beec",
        16,
    ),
)
EXAMPLES = [
    pytest.param(EXAMPLE_256, id="34.10-2001/2012-256"),
    pytest.param(EXAMPLE_512, id="34.10-2012-512"),
]
SCHEMES = [
    pytest.param(GOST2004, id="gost2004"),
    pytest.param(GOST2015_512, id="gost2015-512"),
    pytest.param(GOST2015_256, id="gost2015-256"),
]


@pytest.mark.parametrize("example", EXAMPLES)
def test_published_example_public_key(example) -> None:
    # given the example's private key d, when Q = d·P, then the published Q
    curve = example["curve"]
    curve.check()
    assert curve.multiply_base(example["d"]) == (example["qx"], example["qy"])
    assert curve.multiply(example["d"], (curve.x, curve.y)) == (example["qx"], example["qy"])


@pytest.mark.parametrize("example", EXAMPLES)
def test_published_example_signature(example) -> None:
    # given e and the example's k, when signing, then the published (r, s), and it verifies
    curve = example["curve"]
    assert sign_e(curve, example["d"], example["e"], k=example["k"]) == (example["r"], example["s"])
    assert verify_e(curve, (example["qx"], example["qy"]), example["e"], example["r"], example["s"]) is True


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("field", ["e", "r", "s"])
def test_published_example_tampered(example, field: str) -> None:
    values = {name: example[name] for name in ("e", "r", "s")}
    values[field] += 1
    assert verify_e(curve := example["curve"], (example["qx"], example["qy"]), **values) is False
    assert curve.q  # the curve was used


@pytest.mark.parametrize(
    ("r", "s"), [(0, 1), (1, 0), (EXAMPLE_256["curve"].q, 1), (1, EXAMPLE_256["curve"].q)]
)
def test_out_of_range_r_s_are_refused(r: int, s: int) -> None:
    example = EXAMPLE_256
    assert verify_e(example["curve"], (example["qx"], example["qy"]), example["e"], r, s) is False


@pytest.mark.parametrize("curve", [CRYPTOPRO_A, TC26_512_A, TC26_256_A], ids=lambda c: c.name)
def test_named_curves_are_consistent(curve: Curve) -> None:
    curve.check()


def test_curve_oids() -> None:
    assert CURVES_BY_OID["1.2.398.3.10.1.1.1.1.1"] is CRYPTOPRO_A
    assert CURVES_BY_OID["1.2.398.3.10.1.1.2.2.1"] is TC26_512_A
    assert CURVES_BY_OID["1.2.398.3.10.1.1.2.1.1"] is TC26_256_A


def test_e_is_the_digest_read_little_endian() -> None:
    # NCA convention (shep-notes §3): e = int.from_bytes(digest, "little") mod q, 0 → 1
    assert e_from_digest(b"\x01" + bytes(31), CRYPTOPRO_A.q) == 1
    assert e_from_digest(bytes(31) + b"\x01", CRYPTOPRO_A.q) == 1 << 248
    assert e_from_digest(bytes(32), CRYPTOPRO_A.q) == 1
    assert e_from_digest(CRYPTOPRO_A.q.to_bytes(32, "little"), CRYPTOPRO_A.q) == 1


# ---------------------------------------------------------------- keys and the NCA wrapping


@pytest.fixture(scope="module")
def keys() -> dict:
    return {scheme: GostPrivateKey.generate(scheme) for scheme in (GOST2004, GOST2015_512, GOST2015_256)}


@pytest.mark.parametrize("scheme", SCHEMES)
def test_sign_verify_round_trip(keys, scheme) -> None:
    # given a fresh key, when data is signed, then the SPKI verifies it and the signature is r‖s of 2·size bytes
    key = keys[scheme]
    signature = key.sign(b"payload")
    assert len(signature) == 2 * scheme.size
    gost3410.verify(scheme, key.public_key().to_spki(), signature, b"payload")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_tampered_data_signature_or_key_fail(keys, scheme) -> None:
    key = keys[scheme]
    spki = key.public_key().to_spki()
    signature = key.sign(b"payload")
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    other = GostPrivateKey.generate(scheme).public_key().to_spki()
    for case_spki, case_signature, data in (
        (spki, signature, b"payloaD"),
        (spki, flipped, b"payload"),
        (other, signature, b"payload"),
        (spki, signature[:-1], b"payload"),
    ):
        with pytest.raises(BadSignature):
            gost3410.verify(scheme, case_spki, case_signature, data)


def test_a_key_of_another_scheme_is_refused(keys) -> None:
    signature = keys[GOST2004].sign(b"x")
    with pytest.raises(BadSignature, match="not GOST 2015-256"):
        gost3410.verify(GOST2015_256, keys[GOST2004].public_key().to_spki(), signature, b"x")


def test_nca_wrapping_is_little_endian_r_s_and_x_y(keys) -> None:
    # given a 2004 key, then the SPKI holds X‖Y little-endian and the signature r‖s little-endian
    key = keys[GOST2004]
    public = key.public_key()
    octets = asn1.SubjectPublicKeyInfo.load(public.to_spki())["public_key"].native
    assert octets[:2] == b"\x04\x40"
    assert int.from_bytes(octets[2:34], "little") == public.point[0]
    assert int.from_bytes(octets[34:], "little") == public.point[1]
    signature = key.sign(b"data")
    r, s = int.from_bytes(signature[:32], "little"), int.from_bytes(signature[32:], "little")
    e = e_from_digest(GOST2004.digest(b"data"), CRYPTOPRO_A.q)
    assert verify_e(CRYPTOPRO_A, public.point, e, r, s) is True


@pytest.mark.parametrize(
    "scheme", [pytest.param(GOST2004, id="gost2004"), pytest.param(GOST2015_256, id="gost2015-256")]
)
def test_gostcrypto_independently_verifies_our_signatures(keys, scheme) -> None:
    # given our NCA-encoded signature, when gostcrypto verifies it with the conventions undone
    # (big-endian numbers, reversed digest), then it agrees: an independent implementation
    key = keys[scheme]
    size = scheme.size
    signature = key.sign(b"independent")
    public = key.public_key()
    name = {
        GOST2004: "id-tc26-gost-3410-2012-256-paramSetB",
        GOST2015_256: "id-tc26-gost-3410-2012-256-paramSetA",
    }
    other = gostcrypto_signature.new(
        gostcrypto_signature.MODE_256, gostcrypto_signature.CURVES_R_1323565_1_024_2019[name[scheme]]
    )
    public_be = public.point[0].to_bytes(size, "big") + public.point[1].to_bytes(size, "big")
    signature_be = signature[:size][::-1] + signature[size:][::-1]
    digest = bytearray(scheme.digest(b"independent")[::-1])
    assert other.verify(bytearray(public_be), digest, bytearray(signature_be)) is True
    assert (
        other.verify(bytearray(public_be), bytearray(scheme.digest(b"other")[::-1]), bytearray(signature_be))
        is False
    )


@pytest.mark.parametrize("scheme", SCHEMES)
def test_private_key_container_round_trip(keys, scheme) -> None:
    # given a key, when saved as PEM PKCS#8 and loaded, then the same key that signs verifiably
    key = keys[scheme]
    pem = key.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = load_private_key(pem)
    assert (loaded.scheme, loaded.curve_oid, loaded.d) == (scheme, scheme.curve_oid, key.d)
    assert load_private_key(key.to_pkcs8()).d == key.d
    loaded.public_key().verify(loaded.sign(b"x"), b"x")
    assert str(key.d) not in repr(key)


def test_spki_round_trip_keeps_parameters(keys) -> None:
    spki = keys[GOST2015_512].public_key().to_spki()
    public = GostPublicKey.from_spki(spki)
    assert (public.scheme, public.curve_oid, public.digest_param_oid) == (
        GOST2015_512,
        "1.2.398.3.10.1.1.2.2.1",
        "1.2.398.3.10.1.3.3",
    )
    assert public.to_spki() == spki


def _spki(key_oid: str, curve_oid: str | None, octets: bytes) -> bytes:
    from asn1crypto import core

    algorithm = {"algorithm": key_oid}
    if curve_oid:
        algorithm["parameters"] = asn1.GostKeyParameters({"public_key_param_set": curve_oid})
    return asn1.SubjectPublicKeyInfo(
        {"algorithm": asn1.AlgorithmIdentifier(algorithm), "public_key": core.OctetString(octets).dump()}
    ).dump()


@pytest.mark.parametrize(
    ("key_oid", "curve_oid", "error", "match"),
    [
        pytest.param(
            "1.2.643.7.1.1.1.1",
            "1.2.398.3.10.1.1.1.1.1",
            UnsupportedAlgorithm,
            "1.2.643.7.1.1.1.1",
            id="unknown-key-oid",
        ),
        pytest.param(
            GOST2004.key_oid, "1.2.643.7.1.2.1.1.4", UnsupportedAlgorithm, "curve", id="unknown-curve"
        ),
        pytest.param(GOST2004.key_oid, None, UnsupportedAlgorithm, "without curve", id="no-parameters"),
        pytest.param(
            GOST2004.key_oid,
            "1.2.398.3.10.1.1.2.2.1",
            BadSignature,
            "matching curve",
            id="512-curve-for-256-key",
        ),
    ],
)
def test_spki_refusals(keys, key_oid: str, curve_oid: str | None, error, match: str) -> None:
    octets = keys[GOST2004].public_key().encode_point()
    with pytest.raises(error, match=match):
        GostPublicKey.from_spki(_spki(key_oid, curve_oid, octets))


def test_point_off_the_curve_is_refused(keys) -> None:
    octets = bytearray(keys[GOST2004].public_key().encode_point())
    octets[0] ^= 1
    with pytest.raises(BadSignature, match="not a point"):
        GostPublicKey.from_spki(_spki(GOST2004.key_oid, GOST2004.curve_oid, bytes(octets)))


def test_garbage_spki_is_a_bad_signature() -> None:
    with pytest.raises(BadSignature, match="malformed"):
        GostPublicKey.from_spki(b"\x30\x03\x02\x01\x00")


def test_curve_check_catches_a_wrong_parameter() -> None:
    broken = Curve(
        "broken", CRYPTOPRO_A.p, CRYPTOPRO_A.a, CRYPTOPRO_A.b + 1, CRYPTOPRO_A.q, CRYPTOPRO_A.x, CRYPTOPRO_A.y
    )
    with pytest.raises(CurveError, match="not on the curve"):
        broken.check()


@settings(max_examples=15, deadline=None)
@given(
    d=st.integers(min_value=1, max_value=CRYPTOPRO_A.q - 1), e=st.integers(min_value=0, max_value=2**256 - 1)
)
def test_sign_verify_property_cryptopro_a(d: int, e: int) -> None:
    # for any key and any hash value, a signature verifies and the windowed and base multiplications agree
    public = CRYPTOPRO_A.multiply_base(d)
    assert public == CRYPTOPRO_A.multiply(d, (CRYPTOPRO_A.x, CRYPTOPRO_A.y))
    r, s = sign_e(CRYPTOPRO_A, d, e)
    assert verify_e(CRYPTOPRO_A, public, e, r, s) is True
    same_e = (e % CRYPTOPRO_A.q or 1) == ((e + 1) % CRYPTOPRO_A.q or 1)  # e ≡ 0 counts as 1 (§6.1 step 3)
    assert verify_e(CRYPTOPRO_A, public, e + 1, r, s) is same_e
