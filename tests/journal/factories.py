"""Journal entries at chosen moments, written directly (the services stamp the current time)."""

from __future__ import annotations

import hashlib
import itertools
import zlib
from datetime import datetime

from egsu.journal.models import Direction, EntryKind, JournalEntry

_numbers = itertools.count(1)


def make_entry(
    occurred_at: datetime,
    *,
    direction: str = Direction.IN,
    message_id: str | None = None,
    sender_id: str = "oilco",
    status_code: str = "SCSS001",
    raw: bytes = b"<x/>",
    **fields,
) -> JournalEntry:
    return JournalEntry.objects.create(
        occurred_at=occurred_at,
        direction=direction,
        kind=EntryKind.MESSAGE,
        message_id=message_id or f"msg-{next(_numbers)}",
        sender_id=sender_id,
        status_code=status_code,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        raw=zlib.compress(raw),
        **fields,
    )
