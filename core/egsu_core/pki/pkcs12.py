"""PKCS#12 key stores (RFC 7292), RSA and Kazakh GOST alike: what NCA issues to people and companies.

NCA key stores (``GOSTKNCA_….p12``, ``RSA256_….p12``) are password-protected PFX files with a
SHA-1 MAC, a ``pbeWithSHA1And3-KeyTripleDES-CBC`` shrouded key bag and a certificate bag encrypted
with ``pbeWithSHA1And40BitRC2-CBC``. ``cryptography`` reads the RSA ones but refuses a GOST key
bag, so the container is parsed here with asn1crypto, decrypted with the PKCS#12 key derivation
(RFC 7292 App. B), 3DES/AES from ``cryptography`` and RC2 from egsu_core.pki.rc2, and the key handed to
``cryptography`` (RSA) or egsu_core.pki.gost (GOST; NCA stores the scalar as a big-endian INTEGER).

What we write (``dump``) is PBES2 — PBKDF2-HMAC-SHA256 and AES-256-CBC for the key and the
certificates — with a SHA-256 MAC, which OpenSSL 3 reads by default (tests check with openssl).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from asn1crypto import algos, cms, core, keys, pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from egsu_core.pki import rc2
from egsu_core.pki.certs import Certificate

_HASHES = {
    "sha1": (hashlib.sha1, 20, 64),
    "sha256": (hashlib.sha256, 32, 64),
    "sha512": (hashlib.sha512, 64, 128),
}
_KDF_KEY, _KDF_IV, _KDF_MAC = 1, 2, 3


class KeyStoreError(ValueError):
    """Not a key store we can read, or a wrong password (the message says which, never the password)."""


@dataclass(frozen=True)
class KeyStore:
    """What a key store holds: the private key, its certificate, and any other certificates (the chain)."""

    private_key: object  # rsa.RSAPrivateKey or egsu_core.pki.gost.gost3410.GostPrivateKey
    certificate: Certificate
    chain: tuple[Certificate, ...]
    friendly_name: str | None = None


# ---------------------------------------------------------------- key derivation (RFC 7292 App. B.2)


def _kdf(
    password: str, salt: bytes, iterations: int, purpose: int, size: int, hash_name: str = "sha1"
) -> bytes:
    hash_function, u, v = _HASHES[hash_name]
    secret = (password + "\0").encode("utf-16-be")

    def stretch(data: bytes) -> bytes:
        if not data:
            return b""
        length = v * ((len(data) + v - 1) // v)
        return (data * (length // len(data) + 1))[:length]

    block = bytearray(stretch(salt) + stretch(secret))
    diversifier = bytes([purpose]) * v
    out = b""
    while len(out) < size:
        digest = diversifier + bytes(block)
        for _ in range(iterations):
            digest = hash_function(digest).digest()
        out += digest
        b = int.from_bytes((digest * (v // u + 1))[:v], "big")
        for offset in range(0, len(block), v):
            value = (int.from_bytes(block[offset : offset + v], "big") + b + 1) % (1 << (8 * v))
            block[offset : offset + v] = value.to_bytes(v, "big")
    return out[:size]


# ---------------------------------------------------------------- decryption


def _unpad(data: bytes, block: int) -> bytes:
    if not data or len(data) % block:
        raise KeyStoreError("decryption failed: wrong password or damaged key store")
    pad = data[-1]
    if not 1 <= pad <= block or data[-pad:] != bytes([pad]) * pad:
        raise KeyStoreError("decryption failed: wrong password or damaged key store")
    return data[:-pad]


def _cbc(cipher, iv: bytes, data: bytes) -> bytes:
    decryptor = Cipher(cipher, modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def _decrypt(algorithm: algos.EncryptionAlgorithm, data: bytes, password: str) -> bytes:
    name = algorithm["algorithm"].native
    if name == "pbes2":
        parameters = algorithm["parameters"]
        kdf = parameters["key_derivation_func"]
        if kdf["algorithm"].native != "pbkdf2":
            raise KeyStoreError(f"unsupported key derivation {kdf['algorithm'].native}")
        kdf_params = kdf["parameters"]
        scheme = parameters["encryption_scheme"]
        cipher_name = scheme["algorithm"].native
        sizes = {"aes128_cbc": 16, "aes192_cbc": 24, "aes256_cbc": 32, "tripledes_3key": 24}
        if cipher_name not in sizes:
            raise KeyStoreError(f"unsupported cipher {cipher_name}")
        prf = kdf_params["prf"]["algorithm"].native.replace("hmac_", "")
        key = hashlib.pbkdf2_hmac(
            prf,
            password.encode("utf-8"),
            kdf_params["salt"].native,
            kdf_params["iteration_count"].native,
            sizes[cipher_name],
        )
        iv = scheme["parameters"].native
        if cipher_name == "tripledes_3key":
            return _unpad(_cbc(TripleDES(key), iv, data), 8)
        return _unpad(_cbc(algorithms.AES(key), iv, data), 16)
    parameters = algorithm["parameters"]
    salt, iterations = parameters["salt"].native, parameters["iterations"].native
    if name in ("pkcs12_sha1_tripledes_3key", "pkcs12_sha1_tripledes_2key"):
        key = _kdf(password, salt, iterations, _KDF_KEY, 24)
        if name.endswith("2key"):
            key = key[:16] + key[:8]
        iv = _kdf(password, salt, iterations, _KDF_IV, 8)
        return _unpad(_cbc(TripleDES(key), iv, data), 8)
    if name in ("pkcs12_sha1_rc2_40", "pkcs12_sha1_rc2_128"):
        size = 5 if name.endswith("40") else 16
        key = _kdf(password, salt, iterations, _KDF_KEY, size)
        iv = _kdf(password, salt, iterations, _KDF_IV, 8)
        return _unpad(rc2.decrypt_cbc(key, size * 8, iv, data), 8)
    raise KeyStoreError(f"unsupported key store encryption {name}")


# ---------------------------------------------------------------- reading


def _private_key(pkcs8_der: bytes) -> object:
    from egsu_core.pki.gost import gost3410
    from egsu_core.pki.gost.asn1 import PrivateKeyInfo

    oid = PrivateKeyInfo.load(pkcs8_der)["private_key_algorithm"]["algorithm"].dotted
    if oid in gost3410.SCHEMES_BY_KEY_OID:
        return gost3410.load_private_key(pkcs8_der)
    key = serialization.load_der_private_key(pkcs8_der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyStoreError(
            f"the key store holds a {type(key).__name__}; only RSA and Kazakh GOST keys are used"
        )
    return key


def _public_spki(private_key: object) -> bytes:
    from egsu_core.pki.gost.x509 import public_key_info

    return public_key_info(private_key)


def _attributes(bag: pkcs12.SafeBag) -> tuple[bytes | None, str | None]:
    local_id = name = None
    for attribute in bag["bag_attributes"]:
        kind = attribute["type"].native
        if kind == "local_key_id":
            local_id = attribute["values"][0].native
        elif kind == "friendly_name":
            name = attribute["values"][0].native
    return local_id, name


def _bags(safe: cms.ContentInfo, password: str):
    kind = safe["content_type"].native
    if kind == "data":
        return pkcs12.SafeContents.load(safe["content"].native)
    if kind == "encrypted_data":
        encrypted = safe["content"]["encrypted_content_info"]
        plain = _decrypt(
            encrypted["content_encryption_algorithm"], encrypted["encrypted_content"].native, password
        )
        return pkcs12.SafeContents.load(plain)
    raise KeyStoreError(f"unsupported key store content {kind}")


def _check_mac(pfx: pkcs12.Pfx, password: str) -> None:
    mac_data = pfx["mac_data"]
    if not mac_data:
        return  # nothing to check (a key store without integrity protection)
    hash_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
    if hash_name not in _HASHES:
        raise KeyStoreError(f"unsupported key store MAC {hash_name}")
    hash_function, size, _ = _HASHES[hash_name]
    key = _kdf(
        password, mac_data["mac_salt"].native, mac_data["iterations"].native, _KDF_MAC, size, hash_name
    )
    content = pfx["auth_safe"]["content"].native
    expected = mac_data["mac"]["digest"].native
    if not hmac.compare_digest(hmac.new(key, content, hash_function).digest(), expected):
        raise KeyStoreError("wrong password (the key store's integrity check failed)")


def load(data: bytes, password: str) -> KeyStore:
    """Read a password-protected PKCS#12 key store: the key, its certificate and the others."""
    try:
        pfx = pkcs12.Pfx.load(data)
        pfx["auth_safe"]["content_type"].native  # noqa: B018 - parse now: a non-PFX fails here
    except (ValueError, TypeError) as exc:
        raise KeyStoreError(f"not a PKCS#12 key store: {exc}") from exc
    try:
        _check_mac(pfx, password)
        key_bags, cert_bags = [], []
        for safe in pfx.authenticated_safe:
            for bag in _bags(safe, password):
                kind = bag["bag_id"].native
                if kind == "pkcs8_shrouded_key_bag":
                    value = bag["bag_value"]
                    der = _decrypt(value["encryption_algorithm"], value["encrypted_data"].native, password)
                    key_bags.append((der, *_attributes(bag)))
                elif kind == "key_bag":
                    key_bags.append((bag["bag_value"].dump(), *_attributes(bag)))
                elif kind == "cert_bag" and bag["bag_value"]["cert_id"].native == "x509":
                    der = bag["bag_value"]["cert_value"].parsed.dump()
                    cert_bags.append((Certificate.from_der(der), *_attributes(bag)))
    except KeyStoreError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise KeyStoreError(f"the key store cannot be read: {exc}") from exc
    if len(key_bags) != 1:
        raise KeyStoreError(f"the key store holds {len(key_bags)} private keys; exactly one is expected")
    key_der, key_id, name = key_bags[0]
    private_key = _private_key(key_der)
    spki = _public_spki(private_key)
    mine = [c for c, *_ in cert_bags if c.spki_der == spki]
    if not mine:
        raise KeyStoreError("the key store holds no certificate for its private key")
    others = tuple(c for c, *_ in cert_bags if c.spki_der != spki)
    return KeyStore(private_key, mine[0], others, name)


def is_pkcs12(data: bytes) -> bool:
    """A DER PFX (version 3) rather than PEM."""
    if data.lstrip().startswith(b"-----"):
        return False
    try:
        return pkcs12.Pfx.load(data)["version"].native == "v3"
    except (ValueError, TypeError):
        return False


# ---------------------------------------------------------------- writing


def _pkcs8(private_key: object) -> bytes:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    return private_key.to_pkcs8()


def _pbes2(data: bytes, password: str, iterations: int) -> tuple[algos.EncryptionAlgorithm, bytes]:
    salt, iv = os.urandom(16), os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations, 32)
    padder = sym_padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    algorithm = algos.EncryptionAlgorithm(
        {
            "algorithm": "pbes2",
            "parameters": {
                "key_derivation_func": {
                    "algorithm": "pbkdf2",
                    "parameters": {
                        "salt": {"specified": salt},
                        "iteration_count": iterations,
                        "prf": {"algorithm": "sha256", "parameters": core.Null()},
                    },
                },
                "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
            },
        }
    )
    return algorithm, encrypted


def dump(
    private_key: object,
    certificate: Certificate,
    password: str,
    *,
    chain: tuple[Certificate, ...] = (),
    friendly_name: str | None = None,
    iterations: int = 100_000,
) -> bytes:
    """A password-protected PKCS#12 key store (PBES2 AES-256, SHA-256 MAC) for an RSA or GOST key."""
    if not password:
        raise KeyStoreError("a key store needs a password")
    # SHA-1 as a protocol identifier (key id, OCSP CertID, localKeyId), not for security
    local_id = hashlib.sha1(certificate.der).digest()  # noqa: S324 - an identifier, not security  # nosec B324
    attributes = [{"type": "local_key_id", "values": [local_id]}]
    if friendly_name:
        attributes.append({"type": "friendly_name", "values": [friendly_name]})
    algorithm, encrypted_key = _pbes2(_pkcs8(private_key), password, iterations)
    key_bag = pkcs12.SafeBag(
        {
            "bag_id": "pkcs8_shrouded_key_bag",
            "bag_value": keys.EncryptedPrivateKeyInfo(
                {"encryption_algorithm": algorithm, "encrypted_data": encrypted_key}
            ),
            "bag_attributes": attributes,
        }
    )
    cert_bags = []
    for index, cert in enumerate((certificate, *chain)):
        cert_bags.append(
            pkcs12.SafeBag(
                {
                    "bag_id": "cert_bag",
                    "bag_value": pkcs12.CertBag(
                        {
                            "cert_id": "x509",
                            "cert_value": core.ParsableOctetString(
                                asn1_x509.Certificate.load(cert.der).dump()
                            ),
                        }
                    ),
                    "bag_attributes": attributes if index == 0 else [],
                }
            )
        )
    cert_algorithm, encrypted_certs = _pbes2(pkcs12.SafeContents(cert_bags).dump(), password, iterations)
    safes = pkcs12.AuthenticatedSafe(
        [
            cms.ContentInfo(
                {
                    "content_type": "encrypted_data",
                    "content": cms.EncryptedData(
                        {
                            "version": "v0",
                            "encrypted_content_info": {
                                "content_type": "data",
                                "content_encryption_algorithm": cert_algorithm,
                                "encrypted_content": encrypted_certs,
                            },
                        }
                    ),
                }
            ),
            cms.ContentInfo({"content_type": "data", "content": pkcs12.SafeContents([key_bag]).dump()}),
        ]
    )
    content = safes.dump()
    salt = os.urandom(16)
    mac_key = _kdf(password, salt, iterations, _KDF_MAC, 32, "sha256")
    pfx = pkcs12.Pfx(
        {
            "version": "v3",
            "auth_safe": {"content_type": "data", "content": content},
            "mac_data": {
                "mac": {
                    "digest_algorithm": {"algorithm": "sha256", "parameters": core.Null()},
                    "digest": hmac.new(mac_key, content, hashlib.sha256).digest(),
                },
                "mac_salt": salt,
                "iterations": iterations,
            },
        }
    )
    return pfx.dump()
