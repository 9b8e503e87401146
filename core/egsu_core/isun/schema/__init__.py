"""Our XSD for the ISUN ``data`` element: documentation for integrators, checked by tests.

The rules (egsu_core.isun.rules) stay the authority; this schema is stricter in
places (no unknown fields, ``events`` as the only record name) so that it
describes what a well-behaved client sends.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import xmlschema
from lxml import etree

SCHEMA_DIR = Path(__file__).resolve().parent
DATA_XSD = SCHEMA_DIR / "isun-data.xsd"


@cache
def data_schema() -> xmlschema.XMLSchema:
    """The compiled schema of ``data`` (compiled once per process)."""
    return xmlschema.XMLSchema(str(DATA_XSD))


XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def data_errors(data: etree._Element) -> list[str]:
    """Why ``data`` does not follow the schema (empty when it does).

    An ``xsi:type`` whose prefix is not declared (seen in real traffic) is
    ignored, as the rules ignore it; a declared ``cs:Request`` validates as is.
    """
    xsi_type = data.get(XSI_TYPE)
    if xsi_type and ":" in xsi_type and xsi_type.split(":", 1)[0] not in data.nsmap:
        data = etree.fromstring(etree.tostring(data))
        del data.attrib[XSI_TYPE]
    return [f"{error.path}: {error.reason}" for error in data_schema().iter_errors(data)]
