"""RFC 3161 time-stamp tokens built in the tests with asn1crypto (we verify tokens; we do not issue them)."""

from __future__ import annotations

import datetime
import hashlib

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.pki.xml.keys import Signer, rsa_signer

GEN_TIME = datetime.datetime(2025, 1, 15, 7, 30, tzinfo=datetime.UTC)


def make_token(stamped: bytes, *, tsa: Signer | None = None, imprint: bytes | None = None) -> bytes:
    tsa = tsa or rsa_signer("tsa")
    tst = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": "1.2.398.3.3.2.6.1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": imprint if imprint is not None else hashlib.sha256(stamped).digest(),
            },
            "serial_number": 7,
            "gen_time": GEN_TIME,
        }
    )
    certificate = asn1_x509.Certificate.load(tsa.der)
    signed_attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["tst_info"]},
            {"type": "message_digest", "values": [hashlib.sha256(tst.dump()).digest()]},
        ]
    )
    signature = tsa.key.sign(signed_attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": certificate.issuer,
                        "serial_number": certificate.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "tst_info", "content": tst},
            "certificates": [certificate],
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
