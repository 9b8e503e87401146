"""Put the Kazakh GOST digests and signatures into the shared algorithm table.

URIs and OIDs are exactly those of shep-notes §2a/§3 (NCA ``pkigovkz/xmldsig`` DsigConstants,
NCANode ``KalkanUtil``). Imported once by ``egsu_core.pki.algorithms._load_extensions``.

Not registered: the legacy ``1.3.6.1.4.1.6801.1.2.2`` ("GOST Old 34.311-95 with GOST Old
34.310-2004") signature OID. Third-party code names it, but neither its key OIDs nor its
conventions could be checked against an artefact, and the table is an allow-list.
"""

from __future__ import annotations

from functools import partial

from egsu_core.pki import algorithms
from egsu_core.pki.gost import gost3410, streebog
from egsu_core.pki.gost.gost3411_94 import GOST341194, gost3411_94
from egsu_core.pki.gost.streebog import streebog256, streebog512

_PKIGOVKZ = "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:"

GOST34311 = algorithms.register_digest(
    algorithms.DigestAlgorithm(
        "GOST 34.311-95",
        "http://www.w3.org/2001/04/xmldsig-more#gost34311",
        gost3410.GOST2004.digest_oid,
        gost3411_94,
        GOST341194,
    )
)
STREEBOG512 = algorithms.register_digest(
    algorithms.DigestAlgorithm(
        "GOST R 34.11-2015-512",
        _PKIGOVKZ + "gostr34112015-512",
        gost3410.GOST2015_512.digest_oid,
        streebog512,
        partial(streebog.new, 512),
    )
)
STREEBOG256 = algorithms.register_digest(
    algorithms.DigestAlgorithm(
        "GOST R 34.11-2015-256",
        _PKIGOVKZ + "gostr34112015-256",
        gost3410.GOST2015_256.digest_oid,
        streebog256,
        partial(streebog.new, 256),
    )
)


def _signature(scheme: gost3410.GostScheme, xml_uri: str, digest: algorithms.DigestAlgorithm):
    return algorithms.register_signature(
        algorithms.SignatureAlgorithm(
            scheme.name,
            xml_uri,
            scheme.signature_oid,
            frozenset({scheme.key_oid}),
            digest,
            partial(gost3410.verify, scheme),
            partial(gost3410.sign, scheme),
        )
    )


GOST34310_GOST34311 = _signature(
    gost3410.GOST2004, "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311", GOST34311
)
GOSTR34102015_512 = _signature(
    gost3410.GOST2015_512, _PKIGOVKZ + "gostr34102015-gostr34112015-512", STREEBOG512
)
# NCANode accepts it, NCA's own JSR-105 provider does not (shep-notes §2a); curve not verified.
GOSTR34102015_256 = _signature(
    gost3410.GOST2015_256, _PKIGOVKZ + "gostr34102015-gostr34112015-256", STREEBOG256
)
