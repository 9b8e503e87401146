"""Fixtures for the envelope tests: the real third-party schemas, compiled once per variant."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.shep.real_schemas import VARIANTS, compile_real_schema


@pytest.fixture(scope="session", params=sorted(VARIANTS))
def real_schema(request, tmp_path_factory) -> etree.XMLSchema:
    """The published SyncChannel schema (both public variants), read in place from ../shared."""
    return compile_real_schema(request.param, tmp_path_factory.mktemp(f"real-xsd-{request.param}"))
