"""The streamed digest of a canonical element equals the digest of its canonical bytes (INT-07, SIG-16).

The transport signature's Body digest is hashed as libxml2 writes the canonical form, so that a 15 MB
Body is never copied whole; these tests hold it to the bytes ``canonicalize`` gives, for every
allowed canonicalization, with and without a PrefixList, for every registered digest (RSA's SHA-256
and the Kazakh GOST hashes alike).
"""

from __future__ import annotations

import pytest
from lxml import etree

from egsu_core.pki import algorithms, c14n

DOCUMENT = (
    b'<a xmlns="urn:d" xmlns:x="urn:x" xmlns:y="urn:y"><!-- outside --><b xmlns:z="urn:z" x:q="1">'
    b"<y:c>t&amp;&lt;\xd0\x90</y:c><!-- inside --><d>" + b"long text " * 20_000 + b"</d><e/></b></a>"
)
DIGESTS = [
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#gost34311",
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-512",
    "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-256",
]


@pytest.mark.parametrize("digest_uri", DIGESTS)
@pytest.mark.parametrize("algorithm", sorted(c14n.CANONICALIZATIONS))
@pytest.mark.parametrize("prefixes", [(), ("y",)], ids=["no-prefix-list", "prefix-list"])
@pytest.mark.parametrize("comments", [None, False], ids=["as-the-uri-says", "reference"])
def test_streamed_digest_is_the_digest_of_the_canonical_bytes(digest_uri, algorithm, prefixes, comments):
    # given a subtree in a document that declares namespaces above it and holds comments
    element = etree.fromstring(DOCUMENT)[1]
    digest = algorithms.digest_by_uri(digest_uri)
    # when it is digested as it is canonicalized
    streamed = c14n.digest(element, algorithm, digest, prefixes=prefixes, comments=comments)
    # then the value is that of the whole canonical bytes
    whole = c14n.canonicalize(element, algorithm, prefixes=prefixes, comments=comments)
    assert streamed == digest.digest(whole)


def test_an_algorithm_without_an_incremental_hash_still_digests_the_same():
    element = etree.fromstring(DOCUMENT)[1]
    plain = algorithms.DigestAlgorithm("SHA-256 one-shot", None, None, algorithms.SHA256.digest)
    assert c14n.digest(element, c14n.EXC_C14N, plain) == c14n.digest(
        element, c14n.EXC_C14N, algorithms.SHA256
    )


def test_refusals_are_those_of_canonicalize():
    element = etree.fromstring(b'<a xmlns:r="relative/uri"><r:b/></a>')
    with pytest.raises(c14n.CanonicalizationError, match="not allowed"):
        c14n.digest(element, "http://www.w3.org/2006/12/xml-c14n11", algorithms.SHA256)
    with pytest.raises(c14n.CanonicalizationError, match="relative namespace"):
        c14n.canonicalize(element, c14n.C14N)
    with pytest.raises(c14n.CanonicalizationError, match="relative namespace"):
        c14n.digest(element, c14n.C14N, algorithms.SHA256)
