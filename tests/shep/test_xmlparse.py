"""The hardened parser: size first (INT-07), refusals as FormatError, fast on a full 15 MB message."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egsu_core.shep.envelope import parse_request
from egsu_core.shep.errors import FormatError
from egsu_core.shep.xmlparse import MAX_ATTRIBUTE_CHARS, MAX_DEPTH, MAX_MESSAGE_BYTES, parse_document
from tests.shep.factories import event, request_bytes


def nested(depth: int) -> bytes:
    return b"<a>" * depth + b"</a>" * depth


def test_a_well_formed_message_parses_to_its_root():
    root = parse_document(b"<?xml version='1.0'?><!-- c --><?pi x?><root><child/></root>")

    assert root.tag == "root"
    assert [child.tag for child in root] == ["child"]


def test_the_size_limit_is_15_mb_by_default():
    assert MAX_MESSAGE_BYTES == 15 * 1024 * 1024


def test_an_oversized_message_is_refused_before_parsing():
    # given a message one byte over the limit that is not even XML
    data = b"\0" * (MAX_MESSAGE_BYTES + 1)

    # when / then: the size is what is reported, not a syntax error
    with pytest.raises(FormatError) as caught:
        parse_document(data)
    assert caught.value.detail == f"message is larger than 15 MB: {MAX_MESSAGE_BYTES + 1} bytes received"


def test_a_smaller_configured_limit_is_honoured():
    with pytest.raises(FormatError, match=r"message is larger than 10 bytes: 11 bytes received"):
        parse_document(b"<a>1234</a>", max_bytes=10)


def test_a_message_exactly_at_the_limit_is_parsed():
    data = b"<a>" + b"x" * 93 + b"</a>"

    assert parse_document(data, max_bytes=len(data)).text == "x" * 93


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        pytest.param(b"", "message is empty", id="empty"),
        pytest.param(b" \n\t", "message is empty", id="white-space"),
        pytest.param(
            b"<a><b></a>", "message is not well-formed XML: Opening and ending tag mismatch", id="mismatch"
        ),
        pytest.param(b"<a/><b/>", "message is not well-formed XML: Extra content at the end", id="two-roots"),
        pytest.param(
            b"<a>&undefined;</a>",
            "message is not well-formed XML: Entity 'undefined' not defined",
            id="undefined-entity",
        ),
        pytest.param(b"hello <a/>", "unexpected content before the root element", id="text-before-root"),
        pytest.param(b"<!-- never closed <a/>", "unterminated comment", id="open-comment"),
        pytest.param(
            b"<![CDATA[x]]><a/>",
            "markup declaration before the root element is not allowed",
            id="cdata-in-prolog",
        ),
        pytest.param(b"<!DOCTYPE a><a/>", "DOCTYPE is not allowed", id="doctype"),
        pytest.param(b"<!doctype a><a/>", "DOCTYPE is not allowed", id="doctype-lowercase"),
        pytest.param(
            b'<?xml version="1.0" encoding="UTF-7"?><a/>', "encoding 'UTF-7' is not accepted", id="utf-7"
        ),
        pytest.param(
            b'<?xml version="1.0" encoding="x-nonsense"?><a/>',
            "encoding 'x-nonsense' is not accepted",
            id="unknown-encoding",
        ),
        pytest.param(
            b'<?xml version="1.0" encoding="UTF-16"?><a/>', "does not match the bytes", id="utf-16-lie"
        ),
        pytest.param("<a/>".encode("utf-32"), "encoding UTF-32 is not accepted", id="utf-32"),
    ],
)
def test_malformed_or_refused_input_raises_a_specific_format_error(data, detail):
    with pytest.raises(FormatError) as caught:
        parse_document(data)

    assert detail in caught.value.detail
    assert caught.value.code == "SCE001"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        pytest.param(
            '<?xml version="1.0" encoding="windows-1251"?><a>Қазақ нефть</a>'.encode("cp1251", "replace"),
            "?аза? нефть",
            id="windows-1251",
        ),
        pytest.param(
            '<?xml version="1.0" encoding="KZ-1048"?><a>Қазақ</a>'.encode("kz1048"), "Қазақ", id="kz-1048"
        ),
        pytest.param(
            '<?xml version="1.0" encoding="UTF-16"?><a>Қазақ</a>'.encode("utf-16"), "Қазақ", id="utf-16"
        ),
        pytest.param("\ufeff<a>Қазақ</a>".encode(), "Қазақ", id="utf-8-bom"),
    ],
)
def test_declared_single_byte_and_utf16_encodings_are_decoded(data, text):
    assert parse_document(data).text == text


def test_nesting_up_to_the_limit_is_accepted():
    assert parse_document(nested(MAX_DEPTH)).tag == "a"


def test_nesting_one_level_over_the_limit_is_refused():
    with pytest.raises(FormatError, match=f"XML nesting is deeper than {MAX_DEPTH} levels"):
        parse_document(nested(MAX_DEPTH + 1))


def test_an_attribute_at_the_limit_is_accepted_and_one_over_is_refused():
    at_limit = b'<a v="' + b"x" * MAX_ATTRIBUTE_CHARS + b'"/>'
    over = b'<a v="' + b"x" * (MAX_ATTRIBUTE_CHARS + 1) + b'"/>'

    assert len(parse_document(at_limit).get("v")) == MAX_ATTRIBUTE_CHARS
    with pytest.raises(
        FormatError, match=f"an attribute value is longer than {MAX_ATTRIBUTE_CHARS} characters"
    ):
        parse_document(over)


def test_a_text_node_over_libxml2s_limit_is_refused_cleanly():
    with pytest.raises(FormatError, match="exceeds the parser's size limit"):
        parse_document(b"<a>" + b"x" * 10_000_001 + b"</a>")


def test_str_input_is_a_programming_error():
    with pytest.raises(TypeError):
        parse_document("<a/>")  # type: ignore[arg-type]


def test_a_15_mb_isun_message_parses_without_a_blow_up():
    """A guard, not a speed target (benchmarks/intake.py --largest measures it): CPU time, so a loaded
    CI machine does not fail it, with room for the machine yet far below any quadratic behaviour."""
    # given a request padded with ISUN events to just under 15 MB
    one = request_bytes(payload=[event()])
    per_event = len(request_bytes(payload=[event(), event()])) - len(one)
    count = (MAX_MESSAGE_BYTES - len(one)) // per_event + 1
    data = request_bytes(payload=[event() for _ in range(count)])
    assert MAX_MESSAGE_BYTES - per_event < len(data) <= MAX_MESSAGE_BYTES

    # when parsed (hardened checks included) and read as a request
    started = time.process_time()
    request = parse_request(parse_document(data))
    elapsed = time.process_time() - started

    # then
    assert len(request.data) == count
    assert elapsed < 6.0, f"15 MB parse took {elapsed:.2f} s of CPU"


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_random_bytes_raise_nothing_but_format_error(data):
    try:
        parse_request(parse_document(data))
    except FormatError:
        pass


@settings(max_examples=300)
@given(st.data())
def test_mangled_requests_raise_nothing_but_format_error(data):
    # given a valid request with a slice replaced by random bytes
    original = request_bytes()
    start = data.draw(st.integers(0, len(original)), label="start")
    end = data.draw(st.integers(start, min(len(original), start + 40)), label="end")
    junk = data.draw(st.binary(max_size=20), label="junk")
    mangled = original[:start] + junk + original[end:]

    # when / then
    try:
        parse_request(parse_document(mangled))
    except FormatError:
        pass
