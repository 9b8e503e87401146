"""Registry test setup (the fast password hasher is suite-wide, in tests/conftest.py)."""

from __future__ import annotations
