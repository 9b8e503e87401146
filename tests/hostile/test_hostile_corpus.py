"""Hostile XML: every file in corpus/ is refused quickly, for its own stated reason (shep-notes §5 item 8).

Each message goes through the same path as the endpoint: ``parse_document`` then
``parse_request``. The refusal must be a FormatError (SCE001) with a specific
detail, must take well under a second, and must never carry file content.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from egsu_core.shep.envelope import parse_request
from egsu_core.shep.errors import FormatError
from egsu_core.shep.xmlparse import MAX_MESSAGE_BYTES, parse_document

CORPUS = Path(__file__).resolve().parent / "corpus"
DOCTYPE = "DOCTYPE is not allowed: DTDs and entity declarations are refused"

EXPECTED = {
    "billion_laughs.xml": DOCTYPE,
    "quadratic_blowup.xml": DOCTYPE,
    "external_entity_file.xml": DOCTYPE,
    "external_parameter_entity_http.xml": DOCTYPE,
    "external_dtd_public.xml": DOCTYPE,
    "doctype_internal_subset_only.xml": DOCTYPE,
    "doctype_after_comment_and_pi.xml": DOCTYPE,
    "utf16_external_entity.xml": DOCTYPE,
    "utf7_doctype.xml": "encoding 'UTF-7' is not accepted; use UTF-8",
    "xinclude_passwd.xml": "XInclude elements are not allowed",
    "entity_reference_without_doctype.xml": "message is not well-formed XML: Entity 'xxe' not defined",
    "soap_in_cdata.xml": "soap:Body: unexpected text content",
    "second_body_wrapping.xml": "soap:Envelope holds more than one soap:Body",
    "body_nested_in_wrapper.xml": "unexpected <{urn:attacker}Wrapper> in soap:Envelope",
    "nested_over_limit.xml": "XML nesting is deeper than 100 levels",
    "control_character.xml": "message is not well-formed XML: Invalid character",
}


def _passwd_lines() -> list[str]:
    passwd = Path("/etc/passwd")
    lines = passwd.read_text(errors="replace").splitlines() if passwd.exists() else []
    return [line for line in lines if line.strip()][:5] + ["root:x:0:0"]


# A refusal's CPU time bound: a guard against blow-ups (entity expansion, quadratic attribute or
# nesting handling take minutes), not a speed target — those live in benchmarks/. CPU time, not wall
# time, so a loaded CI machine does not fail it.
QUICK_S = 5.0


def refuse(data: bytes) -> tuple[FormatError, float]:
    """Run the endpoint's reading path and return the refusal and the CPU time it took."""
    started = time.process_time()
    with pytest.raises(FormatError) as caught:
        parse_request(parse_document(data))
    return caught.value, time.process_time() - started


def assert_safe(error: FormatError) -> None:
    assert error.code == "SCE001"
    for line in _passwd_lines():
        assert line not in error.message
    assert "Traceback" not in error.message
    assert "/work/" not in error.message


def test_every_corpus_file_has_an_expectation():
    assert sorted(path.name for path in CORPUS.glob("*.xml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=lambda name: name.removesuffix(".xml"))
def test_corpus_file_is_refused_quickly_for_its_reason(name):
    # given a hostile message from the corpus
    data = (CORPUS / name).read_bytes()

    # when it reaches the gateway's reading path
    error, elapsed = refuse(data)

    # then
    assert EXPECTED[name] in error.detail
    assert elapsed < QUICK_S, f"{name} took {elapsed:.2f} s of CPU"
    assert_safe(error)


def _deep(levels: int) -> bytes:
    return b"<a>" * levels + b"</a>" * levels


GENERATED = {
    "deep-nesting-10000": (lambda: _deep(10_000), "XML nesting is deeper than 100 levels"),
    "deep-nesting-101": (lambda: _deep(101), "XML nesting is deeper than 100 levels"),
    "huge-attribute-5mb": (
        lambda: (
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" x="'
            + b"A" * 5_000_000
            + b'"><soap:Body/></soap:Envelope>'
        ),
        "an attribute value is longer than 65536 characters",
    ),
    "huge-text-node-11mb": (
        lambda: b"<a>" + b"A" * 11_000_000 + b"</a>",
        "a text node or attribute exceeds the parser's size limit",
    ),
    "many-attributes": (
        lambda: b"<a " + b" ".join(b'a%d="x"' % n for n in range(200_000)) + b"/>",
        "root element is <a>, expected a SOAP 1.1 soap:Envelope",
    ),
}


@pytest.mark.parametrize("case", sorted(GENERATED))
def test_generated_hostile_message_is_refused_quickly(case):
    make, expected = GENERATED[case]

    error, elapsed = refuse(make())

    assert expected in error.detail
    assert elapsed < QUICK_S, f"{case} took {elapsed:.2f} s of CPU"
    assert_safe(error)


def test_an_oversized_message_is_refused_before_parsing():
    # given a message over 15 MB whose start is also a billion-laughs DOCTYPE
    data = (CORPUS / "billion_laughs.xml").read_bytes()
    data += b" " * (MAX_MESSAGE_BYTES + 1 - len(data))

    # when
    error, elapsed = refuse(data)

    # then: the size is reported, not the DOCTYPE, so nothing was parsed
    assert error.detail == f"message is larger than 15 MB: {MAX_MESSAGE_BYTES + 1} bytes received"
    assert elapsed < 0.5  # CPU: reading 15 MB of bytes, no parse
