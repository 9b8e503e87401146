"""Bodies read with a limit: the gateway and the AMI intake refuse what is too large before reading it.

Content-Length is a promise, not a fact: a body that declares more than the limit is refused at
once (INT-07: 15 MB by default), and one that declares less is read only to limit + 1 bytes.
"""

from __future__ import annotations

from django.http import HttpRequest


def read_limited(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` bytes (declared or actual)."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        if int(declared) > limit:
            return None
    except ValueError:
        pass
    body = request.read(limit + 1)
    return None if len(body) > limit else body
