"""The operator's trust store: NCA roots (and optionally known intermediates) from files.

Roots are never fetched from the network (SIG-10): what is trusted is exactly
what the operator put in the configured files or directories.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from egsu_core.pki.certs import Certificate, load_certificates

CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer", ".der")


def _read_paths(paths: Iterable[str | Path]) -> list[Certificate]:
    certs: list[Certificate] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in CERTIFICATE_SUFFIXES)
        elif path.exists():
            files = [path]
        else:
            raise FileNotFoundError(f"trust store: {path} does not exist")
        for file in files:
            certs.extend(load_certificates(file.read_bytes()))
    return certs


class TrustStore:
    """Trusted anchors and known intermediates, looked up by name, (issuer, serial) or key id."""

    def __init__(self, anchors: Iterable[Certificate] = (), intermediates: Iterable[Certificate] = ()):
        self._anchors: dict[bytes, Certificate] = {}
        self._intermediates: dict[bytes, Certificate] = {}
        for cert in anchors:
            self.add_anchor(cert)
        for cert in intermediates:
            self.add_intermediate(cert)

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path], intermediates: Iterable[str | Path] = ()) -> TrustStore:
        """Anchors from PEM/DER files or directories of them; intermediates likewise."""
        return cls(_read_paths(paths), _read_paths(intermediates))

    def add_anchor(self, cert: Certificate) -> None:
        self._anchors[cert.der] = cert

    def add_intermediate(self, cert: Certificate) -> None:
        if cert.der not in self._anchors:
            self._intermediates[cert.der] = cert

    @property
    def anchors(self) -> tuple[Certificate, ...]:
        return tuple(self._anchors.values())

    @property
    def intermediates(self) -> tuple[Certificate, ...]:
        return tuple(self._intermediates.values())

    def all(self) -> tuple[Certificate, ...]:
        return (*self._anchors.values(), *self._intermediates.values())

    def is_anchor(self, cert: Certificate) -> bool:
        """Trusted when the very certificate, or one with the same name and key, is an anchor."""
        if cert.der in self._anchors:
            return True
        return any(
            a.subject_der == cert.subject_der and a.spki_der == cert.spki_der for a in self._anchors.values()
        )

    def by_subject(self, name_der: bytes) -> list[Certificate]:
        return [c for c in self.all() if c.subject_der == name_der]

    def by_issuer_serial(self, issuer_der: bytes, serial: int) -> Certificate | None:
        return next((c for c in self.all() if c.issuer_der == issuer_der and c.serial == serial), None)

    def by_key_id(self, key_id: bytes) -> list[Certificate]:
        return [c for c in self.all() if c.subject_key_id == key_id]

    def issuers_of(self, cert: Certificate, extra: Iterable[Certificate] = ()) -> list[Certificate]:
        """Candidate issuers: the name must match; the key identifiers too when both are present."""
        found: list[Certificate] = []
        for candidate in (*extra, *self.all()):
            if candidate.subject_der != cert.issuer_der or candidate.der == cert.der:
                continue
            if cert.authority_key_id and candidate.subject_key_id:
                if cert.authority_key_id != candidate.subject_key_id:
                    continue
            if all(candidate.der != f.der for f in found):
                found.append(candidate)
        return found

    def __len__(self) -> int:
        return len(self._anchors) + len(self._intermediates)
