"""A hardened XML parser for everything that arrives through the gateway.

Messages come from outside, so the parser refuses whatever lets a document
make the server do work or reach files and hosts: any DOCTYPE (billion laughs,
quadratic blow-up, external and parameter entities), XInclude, deep nesting
and huge attributes (shep-notes §5 item 8). The size is checked before a byte
is parsed (INT-07). Every refusal is a ``FormatError`` (SCE001) whose detail
is safe to send back: no stack trace, no file content, no internal path.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from egsu_core.shep.errors import FormatError

MAX_MESSAGE_BYTES = 15 * 1024 * 1024
"""INT-07: a packet between a subject's system and the System is at most 15 MB."""

MAX_DEPTH = 100
"""Deepest element nesting accepted; the envelope plus an ISUN payload needs fewer than 10 levels."""

MAX_ATTRIBUTE_CHARS = 64 * 1024
"""Longest attribute value accepted; real envelopes carry ids and algorithm URIs, never bulk data."""

PROLOG_SCAN_BYTES = 64 * 1024
"""The root element must start within this many bytes; the DOCTYPE pre-scan reads no further."""

# libxml2 without XML_PARSE_HUGE also caps a single text node at 10,000,000 bytes and the
# nesting depth at 256; those limits stay on (huge_tree=False) behind our own, stricter ones.

_ACCEPTED_ENCODINGS = frozenset(
    {"ascii", "utf-8", "utf-16", "utf-16-le", "utf-16-be", "cp866", "koi8-r", "koi8-u", "kz1048"}
    | {f"iso8859-{n}" for n in range(1, 17)}
    | {f"cp{n}" for n in range(1250, 1259)}
)
"""Python codec names of the encodings we let libxml2 decode: Unicode and the Cyrillic/Latin
single-byte sets Kazakh systems use. UTF-7 and other shift encodings would let markup hide
from the DOCTYPE pre-scan, so they are refused."""

_UTF16_FAMILY = frozenset({"utf-16", "utf-16-le", "utf-16-be"})
_ENCODING_DECL = re.compile(r"""<\?xml\s[^>]*?encoding\s*=\s*["']([^"']{1,40})["']""")
_XML_SPACE = " \t\r\n"
_XINCLUDE_TAGS = ("{http://www.w3.org/2001/XInclude}*", "{http://www.w3.org/2003/XInclude}*")
_TOO_DEEP = etree.XPath("boolean(" + "/*" * (MAX_DEPTH + 1) + ")")
_HUGE_ATTRIBUTE = etree.XPath(f"boolean(//@*[string-length(.) > {MAX_ATTRIBUTE_CHARS}])")


def parse_document(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> etree._Element:
    """Parse one gateway message into its root element, or raise FormatError saying why not."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError("parse_document takes the raw bytes of the message")
    if len(data) > max_bytes:  # INT-07, before any parsing
        raise FormatError(f"message is larger than {_size(max_bytes)}: {len(data)} bytes received")
    if not data.strip():
        raise FormatError("message is empty")
    _check_prolog(bytes(data[:PROLOG_SCAN_BYTES]), truncated=len(data) > PROLOG_SCAN_BYTES)
    parser = etree.XMLParser(  # a fresh parser per call: lxml parsers are not shared across threads
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
    )
    try:
        root = etree.fromstring(bytes(data) if isinstance(data, bytearray) else data, parser)
    except etree.XMLSyntaxError as exc:
        raise FormatError(_syntax_detail(exc)) from None
    except (etree.LxmlError, ValueError):
        raise FormatError("message is not well-formed XML") from None
    if root is None:
        raise FormatError("message has no root element")
    _check_tree(root)
    return root


def _size(limit: int) -> str:
    mib = 1024 * 1024
    return f"{limit // mib} MB" if limit % mib == 0 else f"{limit} bytes"


def _check_prolog(head: bytes, *, truncated: bool) -> None:
    """Walk what precedes the root element and refuse any markup declaration in it.

    Only an XML declaration, comments, processing instructions and white space may
    come before the root; ``<!`` that does not open a comment is a DOCTYPE (or junk).
    Refusing it here means entity expansion never starts.
    """
    text = _decode_head(head)
    pos = 1 if text.startswith("\ufeff") else 0
    while True:
        while pos < len(text) and text[pos] in _XML_SPACE:
            pos += 1
        if pos >= len(text):
            if truncated:
                raise FormatError(
                    f"the root element does not start within the first {_size(PROLOG_SCAN_BYTES)}"
                )
            return  # only white space and prolog items: the parser reports the missing root
        if text.startswith("<?", pos):
            end = text.find("?>", pos + 2)
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
        elif text.startswith("<!", pos):
            if text[pos + 2 : pos + 9].upper() == "DOCTYPE":
                raise FormatError("DOCTYPE is not allowed: DTDs and entity declarations are refused")
            raise FormatError("markup declaration before the root element is not allowed")
        elif text.startswith("<", pos):
            return
        else:
            raise FormatError("unexpected content before the root element")
        if end < 0:
            raise FormatError("unterminated comment or processing instruction before the root element")
        pos = end + 2 if text[end] == "?" else end + 3


def _decode_head(head: bytes) -> str:
    """Decode the first bytes well enough to see markup, refusing encodings that could hide it."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or head[:4] in (b"\0\0\0<", b"<\0\0\0"):
        raise FormatError("encoding UTF-32 is not accepted; use UTF-8")
    if head.startswith(codecs.BOM_UTF8):
        family, text = "ascii", head[len(codecs.BOM_UTF8) :].decode("latin-1")
    elif head.startswith(codecs.BOM_UTF16_LE) or head[:4] == b"<\0?\0":
        family, text = "utf-16", head.decode("utf-16-le", errors="replace")
    elif head.startswith(codecs.BOM_UTF16_BE) or head[:4] == b"\0<\0?":
        family, text = "utf-16", head.decode("utf-16-be", errors="replace")
    elif head[:4] == b"\x4c\x6f\xa7\x94":
        raise FormatError("encoding EBCDIC is not accepted; use UTF-8")
    else:
        family, text = "ascii", head.decode("latin-1")
    declared = _ENCODING_DECL.match(text.lstrip("\ufeff"))
    if declared:
        name = declared.group(1).strip()
        try:
            codec = codecs.lookup(name).name
        except (LookupError, ValueError):  # unknown name, or one with a NUL in it (found by hypothesis)
            codec = ""
        if codec not in _ACCEPTED_ENCODINGS:
            raise FormatError(f"encoding {name[:40]!r} is not accepted; use UTF-8")
        if (codec in _UTF16_FAMILY) != (family == "utf-16"):
            raise FormatError(f"declared encoding {name[:40]!r} does not match the bytes of the message")
    return text


def _syntax_detail(exc: etree.XMLSyntaxError) -> str:
    message = (exc.msg or "").split("\n")[0]
    if "Excessive depth" in message:
        return f"XML nesting is deeper than {MAX_DEPTH} levels"
    if "Resource limit exceeded" in message or "huge" in message.lower():
        return "a text node or attribute exceeds the parser's size limit"
    if "Unsupported encoding" in message or "unknown encoding" in message.lower():
        return "the declared encoding is not supported; use UTF-8"
    return f"message is not well-formed XML: {message[:200]}"


def _check_tree(root: etree._Element) -> None:
    """Limits libxml2 does not enforce for us, checked in C through XPath (fast on 15 MB)."""
    if root.getroottree().docinfo.doctype:  # unreachable after the pre-scan; kept as a second lock
        raise FormatError("DOCTYPE is not allowed: DTDs and entity declarations are refused")
    if _TOO_DEEP(root):
        raise FormatError(f"XML nesting is deeper than {MAX_DEPTH} levels")
    if next(root.iter(*_XINCLUDE_TAGS), None) is not None:
        raise FormatError("XInclude elements are not allowed")
    if _HUGE_ATTRIBUTE(root):
        raise FormatError(f"an attribute value is longer than {MAX_ATTRIBUTE_CHARS} characters")


__all__ = ["MAX_MESSAGE_BYTES", "MAX_DEPTH", "MAX_ATTRIBUTE_CHARS", "parse_document"]
