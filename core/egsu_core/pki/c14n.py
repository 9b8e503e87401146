"""XML canonicalization 1.0 (inclusive and exclusive) through lxml, behind an allow-list of URIs.

Signatures are computed over canonical bytes, so every verifier and signer in
``egsu_core.pki`` canonicalizes here (SIG-16, SIG-18). lxml canonicalizes a
subtree *in its document context*: inclusive c14n emits the namespaces the
element inherits, exclusive c14n only the visibly utilized ones plus the
``InclusiveNamespaces PrefixList``. ``digest`` hashes the canonical form as it
is written, for the large Body of a transport signature (INT-07).
"""

from __future__ import annotations

import re

from lxml import etree

from egsu_core.pki import algorithms

C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_WITH_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_WITH_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"

CANONICALIZATIONS = frozenset({C14N, C14N_WITH_COMMENTS, EXC_C14N, EXC_C14N_WITH_COMMENTS})
EXCLUSIVE = frozenset({EXC_C14N, EXC_C14N_WITH_COMMENTS})
WITH_COMMENTS = frozenset({C14N_WITH_COMMENTS, EXC_C14N_WITH_COMMENTS})

INCLUSIVE_NAMESPACES = f"{{{EXC_C14N}}}InclusiveNamespaces"
MAX_PREFIXES = 32
"""More prefixes than this in a PrefixList is not something an honest signer writes."""

_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class CanonicalizationError(ValueError):
    """The element cannot be canonicalized with the given method (a safe, short reason)."""


def canonicalize(
    element: etree._Element,
    algorithm: str,
    *,
    prefixes: tuple[str, ...] = (),
    comments: bool | None = None,
) -> bytes:
    """Canonical bytes of ``element`` in its document context.

    ``comments=None`` follows the algorithm URI; references pass ``False`` because
    a same-document URI dereference drops comments whatever the transform says
    (XMLDSig §4.3.3.3).
    """
    exclusive, with_comments, inclusive = _mode(algorithm, prefixes, comments)
    try:
        return etree.tostring(
            element,
            method="c14n",
            exclusive=exclusive,
            with_comments=with_comments,
            inclusive_ns_prefixes=inclusive,
        )
    except etree.C14NError:
        raise _refused() from None


def digest(
    element: etree._Element,
    algorithm: str,
    digest_algorithm: algorithms.DigestAlgorithm,
    *,
    prefixes: tuple[str, ...] = (),
    comments: bool | None = None,
) -> bytes:
    """The digest of ``canonicalize(element, …)``, hashed as libxml2 writes it, a few KB at a time.

    The canonical copy of a 15 MB Body (INT-07) is never held whole: it would be 15 MB of bytes
    plus libxml2's growing output buffer on top of the parsed tree, at the worker's peak.
    """
    exclusive, with_comments, inclusive = _mode(algorithm, prefixes, comments)
    hasher = digest_algorithm.hasher()
    try:
        etree.ElementTree(element).write_c14n(
            _Sink(hasher), exclusive=exclusive, with_comments=with_comments, inclusive_ns_prefixes=inclusive
        )
    except etree.C14NError:
        raise _refused() from None
    return bytes(hasher.digest())


class _Sink:
    """The file-like object lxml writes the canonical chunks to."""

    def __init__(self, hasher: algorithms.Hasher) -> None:
        self._update = hasher.update

    def write(self, data: bytes) -> int:
        self._update(data)
        return len(data)


def _mode(
    algorithm: str, prefixes: tuple[str, ...], comments: bool | None
) -> tuple[bool, bool, list[str] | None]:
    """(exclusive, with comments, the PrefixList) for lxml, or CanonicalizationError."""
    if algorithm not in CANONICALIZATIONS:
        raise CanonicalizationError(f"canonicalization {algorithm[:200]!r} is not allowed")
    exclusive = algorithm in EXCLUSIVE
    with_comments = (algorithm in WITH_COMMENTS) if comments is None else comments
    return exclusive, with_comments, list(prefixes) if exclusive and prefixes else None


def _refused() -> CanonicalizationError:
    # libxml2 refuses relative namespace URIs (deprecated by the XML namespaces spec).
    return CanonicalizationError("the XML cannot be canonicalized (relative namespace URI?)")


def prefix_list(method_element: etree._Element) -> tuple[str, ...]:
    """The InclusiveNamespaces PrefixList under a CanonicalizationMethod or Transform, validated."""
    children = [child for child in method_element if isinstance(child.tag, str)]
    if not children:
        return ()
    if len(children) != 1 or children[0].tag != INCLUSIVE_NAMESPACES:
        raise CanonicalizationError("unexpected element inside a canonicalization method")
    if method_element.get("Algorithm") not in EXCLUSIVE:
        raise CanonicalizationError("InclusiveNamespaces is only allowed with exclusive canonicalization")
    tokens = (children[0].get("PrefixList") or "").split()
    if len(tokens) > MAX_PREFIXES:
        raise CanonicalizationError(f"InclusiveNamespaces PrefixList names more than {MAX_PREFIXES} prefixes")
    for token in tokens:
        if token != "#default" and not _NCNAME.match(token):
            raise CanonicalizationError("InclusiveNamespaces PrefixList is malformed")
    return tuple(tokens)
