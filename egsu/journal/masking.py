"""Hide the cleartext sender password of a raw message before anyone reads it on screen.

`sender/password` travels in clear inside the Body (shep-notes §5.11). The journal keeps the
bytes as received, for the checksum; every display goes through `mask_passwords` instead.
"""

from __future__ import annotations

import re

MASK = b"***"

# <password>…</password> with any prefix and attributes, and the same escaped inside a
# string payload (&lt;password&gt;…&lt;/password&gt;).
_ELEMENT = re.compile(
    rb"(<(?P<prefix>[\w.-]+:)?password(?:\s[^>]*)?(?<!/)>)"
    rb"(?P<secret>(?:<!\[CDATA\[.*?\]\]>|.)*?)"  # a CDATA section may itself contain "</password>"
    rb"(?P<close></(?P=prefix)?password\s*>)",
    re.DOTALL,
)
_ESCAPED = re.compile(
    rb"(&lt;(?P<prefix>[\w.-]+:)?password(?:\s(?:(?!&gt;).)*)?(?<!/)&gt;)"
    rb"(?P<secret>.*?)"
    rb"(?P<close>&lt;/(?P=prefix)?password\s*&gt;)",
    re.DOTALL,
)


def mask_passwords(raw: bytes) -> bytes:
    """The raw bytes with every password element's content replaced by ***."""
    masked = _ELEMENT.sub(lambda m: m.group(1) + MASK + m.group("close"), raw)
    return _ESCAPED.sub(lambda m: m.group(1) + MASK + m.group("close"), masked)
