"""Facts about processes of this host that several parts need (plain Python, no Django)."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (signal 0 checks without touching it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
