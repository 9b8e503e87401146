"""Issue GOST certificates, CRLs and OCSP responses shaped like the NCA's, for our test PKI and the agent.

asn1crypto builds the structures; every signature goes through the shared algorithm table
(``sign_tbs``), so an RSA issuer works the same way. Signature values are stored exactly as the
NCA stores them (raw r‖s little-endian in the BIT STRING, AlgorithmIdentifier parameters NULL),
and the subject DN follows shep-notes §3 (``CN``, ``SERIALNUMBER=IIN…``, ``O``, ``OU=BIN…``, ``C=KZ``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import core, crl, keys, ocsp, pem, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from egsu_core.pki import algorithms
from egsu_core.pki.gost import gost3410
from egsu_core.pki.gost.asn1 import SubjectPublicKeyInfo

# NCA certificate policies and extended key usages (shep-notes §3).
POLICY_NCA_REGULATIONS = "1.2.398.3.3.1.1"
POLICY_LEGAL_ENTITY_SIGN = "1.2.398.3.3.2.1"
POLICY_LEGAL_ENTITY_AUTH = "1.2.398.3.3.2.2"
POLICY_INDIVIDUAL_SIGN = "1.2.398.3.3.2.3"
POLICY_INDIVIDUAL_AUTH = "1.2.398.3.3.2.4"
EKU_INDIVIDUAL = "1.2.398.3.3.4.1.1"
EKU_ORGANISATION = "1.2.398.3.3.4.1.2"
EKU_CEO = "1.2.398.3.3.4.1.2.1"
EKU_RIGHT_TO_SIGN = "1.2.398.3.3.4.1.2.2"
EKU_EMPLOYEE = "1.2.398.3.3.4.1.2.5"


# ---------------------------------------------------------------- keys and the generic signer


def public_key_info(private_key: object) -> bytes:
    """The SubjectPublicKeyInfo (DER) of a GOST or RSA private key."""
    if isinstance(private_key, gost3410.GostPrivateKey):
        return private_key.public_key().to_spki()
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    raise algorithms.UnsupportedAlgorithm(f"no signature scheme for {type(private_key).__name__}")


def signature_algorithm_for(private_key: object) -> algorithms.SignatureAlgorithm:
    """GOST keys sign with their own scheme, RSA keys with RSA-SHA256 (shep-notes §2a)."""
    if isinstance(private_key, gost3410.GostPrivateKey):
        return algorithms.signature_by_oid(private_key.scheme.signature_oid)
    if isinstance(private_key, rsa.RSAPrivateKey):
        return algorithms.RSA_SHA256
    raise algorithms.UnsupportedAlgorithm(f"no signature scheme for {type(private_key).__name__}")


def sign_tbs(tbs_der: bytes, algorithm: algorithms.SignatureAlgorithm, private_key: object) -> bytes:
    """Sign to-be-signed DER with any signature algorithm of the shared table."""
    if algorithm.sign is None:
        raise algorithms.UnsupportedAlgorithm(f"{algorithm.name} cannot sign")
    return algorithm.sign(private_key, tbs_der)


def _algorithm_identifier(algorithm: algorithms.SignatureAlgorithm) -> dict:
    return {"algorithm": algorithm.oid, "parameters": core.Null()}


def _key_octets(spki_der: bytes) -> bytes:
    """The subjectPublicKey BIT STRING value: input of key identifiers and OCSP key hashes."""
    return SubjectPublicKeyInfo.load(spki_der)["public_key"].native


def _uri(url: str) -> x509.GeneralName:
    return x509.GeneralName(name="uniform_resource_identifier", value=url)


def _time(moment: datetime) -> x509.Time:
    # RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after.
    return x509.Time({"utc_time" if moment.year < 2050 else "general_time": moment})


# ---------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Issued:
    """A certificate with the private key of its subject."""

    certificate: x509.Certificate
    private_key: object

    @property
    def der(self) -> bytes:
        return self.certificate.dump()

    @property
    def pem(self) -> bytes:
        return pem.armor("CERTIFICATE", self.der)

    @property
    def spki(self) -> bytes:
        return self.certificate["tbs_certificate"]["subject_public_key_info"].dump()

    @property
    def name(self) -> x509.Name:
        return self.certificate["tbs_certificate"]["subject"]

    @property
    def serial_number(self) -> int:
        return self.certificate["tbs_certificate"]["serial_number"].native


def nca_name(
    common_name: str,
    *,
    iin: str | None = None,
    organization: str | None = None,
    bin_: str | None = None,
    surname: str | None = None,
    given_name: str | None = None,
    country: str = "KZ",
) -> x509.Name:
    """A subject DN in NCA form: SERIALNUMBER=IIN…, OU=BIN… (shep-notes §3)."""
    attributes: dict[str, str] = {"common_name": common_name}
    if surname:
        attributes["surname"] = surname
    if iin:
        attributes["serial_number"] = f"IIN{iin}"
    attributes["country_name"] = country
    if organization:
        attributes["organization_name"] = organization
    if bin_:
        attributes["organizational_unit_name"] = f"BIN{bin_}"
    if given_name:
        attributes["given_name"] = given_name
    return x509.Name.build(attributes, use_printable=False)


def build_certificate(
    *,
    subject: x509.Name,
    subject_spki: bytes,
    issuer: Issued | None,
    issuer_key: object,
    not_before: datetime,
    not_after: datetime,
    ca: bool,
    key_usage: set[str],
    extended_key_usage: Sequence[str] = (),
    policies: Sequence[str] = (),
    ca_issuers_url: str | None = None,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
    serial_number: int | None = None,
    delta_crl_url: str | None = None,
    extra_extensions: Sequence[dict] = (),
) -> x509.Certificate:
    """One X.509 v3 certificate; ``issuer=None`` makes it self-signed with ``issuer_key``.

    ``delta_crl_url`` adds a Freshest CRL point (RFC 5280 §4.2.1.15) as the NCA's test certificates
    carry; ``extra_extensions`` are appended as given (asn1crypto dicts, e.g. ``ocsp_no_check``).
    """
    algorithm = signature_algorithm_for(issuer_key)
    issuer_name = issuer.name if issuer else subject
    issuer_spki = issuer.spki if issuer else subject_spki
    extensions = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
        {"extn_id": "key_usage", "critical": True, "extn_value": key_usage},
        {
            "extn_id": "key_identifier",
            "critical": False,
            # SHA-1 as a protocol identifier (key id, OCSP CertID, localKeyId), not for security
            "extn_value": hashlib.sha1(_key_octets(subject_spki)).digest(),  # nosec B324
        },  # noqa: S324 - RFC 5280 §4.2.1.2 method 1
        {
            "extn_id": "authority_key_identifier",
            "critical": False,
            # SHA-1 as a protocol identifier (key id, OCSP CertID, localKeyId), not for security
            "extn_value": {"key_identifier": hashlib.sha1(_key_octets(issuer_spki)).digest()},  # noqa: S324  # nosec B324
        },
    ]
    if extended_key_usage:
        extensions.append(
            {"extn_id": "extended_key_usage", "critical": False, "extn_value": list(extended_key_usage)}
        )
    if policies:
        extensions.append(
            {
                "extn_id": "certificate_policies",
                "critical": False,
                "extn_value": [{"policy_identifier": oid} for oid in policies],
            }
        )
    access = []
    if ca_issuers_url:
        access.append(
            {
                "access_method": "ca_issuers",
                "access_location": _uri(ca_issuers_url),
            }
        )
    if ocsp_url:
        access.append({"access_method": "ocsp", "access_location": _uri(ocsp_url)})
    if access:
        extensions.append(
            {"extn_id": "authority_information_access", "critical": False, "extn_value": access}
        )
    if crl_url:
        extensions.append(
            {
                "extn_id": "crl_distribution_points",
                "critical": False,
                "extn_value": [{"distribution_point": {"full_name": [_uri(crl_url)]}}],
            }
        )
    if delta_crl_url:
        extensions.append(
            {
                "extn_id": "freshest_crl",
                "critical": False,
                "extn_value": [{"distribution_point": {"full_name": [_uri(delta_crl_url)]}}],
            }
        )
    extensions.extend(extra_extensions)
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial_number or secrets.randbits(159) | (1 << 158),
            "signature": _algorithm_identifier(algorithm),
            "issuer": issuer_name,
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": subject,
            "subject_public_key_info": keys.PublicKeyInfo.load(subject_spki),
            "extensions": extensions,
        }
    )
    tbs_der = tbs.dump()
    return x509.Certificate(
        {
            "tbs_certificate": x509.TbsCertificate.load(tbs_der),
            "signature_algorithm": _algorithm_identifier(algorithm),
            "signature_value": sign_tbs(tbs_der, algorithm, issuer_key),
        }
    )


def issue_ca(
    common_name: str,
    private_key: object,
    *,
    parent: Issued | None = None,
    not_before: datetime,
    not_after: datetime,
    crl_url: str | None = None,
    ca_issuers_url: str | None = None,
) -> Issued:
    """A root (``parent=None``) or intermediate CA certificate with the NCA regulations policy."""
    certificate = build_certificate(
        subject=nca_name(common_name),
        subject_spki=public_key_info(private_key),
        issuer=parent,
        issuer_key=parent.private_key if parent else private_key,
        not_before=not_before,
        not_after=not_after,
        ca=True,
        key_usage={"key_cert_sign", "crl_sign"},
        policies=(POLICY_NCA_REGULATIONS,),
        crl_url=crl_url,
        ca_issuers_url=ca_issuers_url,
    )
    return Issued(certificate, private_key)


def issue_leaf(
    issuer: Issued,
    private_key: object,
    *,
    common_name: str,
    iin: str,
    not_before: datetime,
    not_after: datetime,
    organization: str | None = None,
    bin_: str | None = None,
    surname: str | None = None,
    given_name: str | None = None,
    purpose: str = "sign",
    extended_key_usage: Sequence[str] | None = None,
    policies: Sequence[str] | None = None,
    ca_issuers_url: str | None = None,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
) -> Issued:
    """An end-entity certificate like the NCA's sign (``purpose="sign"``) or auth certificates."""
    legal_entity = bin_ is not None
    if purpose == "sign":
        key_usage = {"digital_signature", "non_repudiation"}
        default_policy = POLICY_LEGAL_ENTITY_SIGN if legal_entity else POLICY_INDIVIDUAL_SIGN
        default_eku = ["email_protection"]
    elif purpose == "auth":
        key_usage = {"digital_signature", "key_encipherment"}
        default_policy = POLICY_LEGAL_ENTITY_AUTH if legal_entity else POLICY_INDIVIDUAL_AUTH
        default_eku = ["client_auth"]
    else:
        raise ValueError(f"purpose is 'sign' or 'auth', not {purpose!r}")
    if extended_key_usage is None:
        extended_key_usage = [*default_eku, EKU_CEO if legal_entity else EKU_INDIVIDUAL]
    certificate = build_certificate(
        subject=nca_name(
            common_name,
            iin=iin,
            organization=organization,
            bin_=bin_,
            surname=surname,
            given_name=given_name,
        ),
        subject_spki=public_key_info(private_key),
        issuer=issuer,
        issuer_key=issuer.private_key,
        not_before=not_before,
        not_after=not_after,
        ca=False,
        key_usage=key_usage,
        extended_key_usage=extended_key_usage,
        policies=policies if policies is not None else (default_policy,),
        ca_issuers_url=ca_issuers_url,
        ocsp_url=ocsp_url,
        crl_url=crl_url,
    )
    return Issued(certificate, private_key)


# ---------------------------------------------------------------- CRLs and OCSP


@dataclass(frozen=True)
class Revocation:
    serial_number: int
    revoked_at: datetime
    reason: str | None = None  # RFC 5280 CRLReason name, e.g. "key_compromise"


def issue_crl(
    issuer: Issued,
    *,
    this_update: datetime,
    next_update: datetime,
    revoked: Sequence[Revocation] = (),
    number: int = 1,
    delta_base: int | None = None,
) -> crl.CertificateList:
    """A full CRL, or a delta CRL over base CRL number ``delta_base`` (critical deltaCRLIndicator)."""
    algorithm = signature_algorithm_for(issuer.private_key)
    entries = []
    for item in revoked:
        entry: dict = {"user_certificate": item.serial_number, "revocation_date": _time(item.revoked_at)}
        if item.reason:
            entry["crl_entry_extensions"] = [
                {"extn_id": "crl_reason", "critical": False, "extn_value": item.reason}
            ]
        entries.append(entry)
    tbs = crl.TbsCertList(
        {
            "version": "v2",
            "signature": _algorithm_identifier(algorithm),
            "issuer": issuer.name,
            "this_update": _time(this_update),
            "next_update": _time(next_update),
            "revoked_certificates": entries or None,
            "crl_extensions": [
                {"extn_id": "crl_number", "critical": False, "extn_value": number},
                {
                    "extn_id": "authority_key_identifier",
                    "critical": False,
                    # SHA-1 as a protocol identifier (key id, OCSP CertID, localKeyId), not for security
                    "extn_value": {"key_identifier": hashlib.sha1(_key_octets(issuer.spki)).digest()},  # noqa: S324  # nosec B324
                },
                *(
                    [{"extn_id": "delta_crl_indicator", "critical": True, "extn_value": delta_base}]
                    if delta_base is not None
                    else []
                ),
            ],
        }
    )
    tbs_der = tbs.dump()
    return crl.CertificateList(
        {
            "tbs_cert_list": crl.TbsCertList.load(tbs_der),
            "signature_algorithm": _algorithm_identifier(algorithm),
            "signature": sign_tbs(tbs_der, algorithm, issuer.private_key),
        }
    )


def issue_ocsp_response(
    *,
    issuer: Issued,
    responder: Issued,
    serial_number: int,
    produced_at: datetime,
    revoked_at: datetime | None = None,
    revocation_reason: str | None = None,
    nonce: bytes | None = None,
    validity: timedelta = timedelta(hours=1),
    hash_algorithm: str = "sha256",
    unknown: bool = False,
    this_update: datetime | None = None,
    next_update: datetime | None = None,
) -> ocsp.OCSPResponse:
    """A successful BasicOCSPResponse for one certificate, signed by ``responder`` (may be the issuer).

    The CertID uses SHA-256 like NCANode's requests (shep-notes §3) unless ``hash_algorithm``
    ("sha1") answers a request that used another; ``unknown`` answers for a serial the CA never issued.
    """
    algorithm = signature_algorithm_for(responder.private_key)
    if unknown:
        status = ocsp.CertStatus(name="unknown", value=core.Null())
    elif revoked_at is None:
        status = ocsp.CertStatus(name="good", value=core.Null())
    else:
        status = ocsp.CertStatus(
            name="revoked", value={"revocation_time": revoked_at, "revocation_reason": revocation_reason}
        )
    this_update = this_update or produced_at
    next_update = next_update or this_update + validity
    response_extensions = [{"extn_id": "nonce", "critical": False, "extn_value": nonce}] if nonce else None
    tbs = ocsp.ResponseData(
        {
            "responder_id": ocsp.ResponderId(
                # SHA-1 as a protocol identifier (key id, OCSP CertID, localKeyId), not for security
                name="by_key",
                value=hashlib.sha1(_key_octets(responder.spki)).digest(),  # nosec B324
            ),  # noqa: S324 - RFC 6960 KeyHash
            "produced_at": produced_at,
            "responses": [
                {
                    "cert_id": {
                        "hash_algorithm": {"algorithm": hash_algorithm},
                        "issuer_name_hash": hashlib.new(hash_algorithm, issuer.name.dump()).digest(),
                        "issuer_key_hash": hashlib.new(hash_algorithm, _key_octets(issuer.spki)).digest(),
                        "serial_number": serial_number,
                    },
                    "cert_status": status,
                    "this_update": this_update,
                    "next_update": next_update,
                }
            ],
            "response_extensions": response_extensions,
        }
    )
    tbs_der = tbs.dump()
    basic = ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": ocsp.ResponseData.load(tbs_der),
            "signature_algorithm": _algorithm_identifier(algorithm),
            "signature": sign_tbs(tbs_der, algorithm, responder.private_key),
            "certs": [x509.Certificate.load(responder.der)] if responder is not issuer else None,
        }
    )
    return ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
        }
    )
