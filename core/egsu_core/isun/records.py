"""Read the App.2 records out of a SendMessage ``data`` element, without judging them (rules.py does).

What is accepted as the record container (COL-08, shep-notes §4):
- ``<data><events>…</events><events>…</events></data>``: what real ISUN_Service2
  clients send, one ``events`` element per device record;
- the same with any other repeated child name (``record``, ``row``…); every
  element child of ``data`` is one record, in document order (positions are 1-based);
- one wrapper level: ``<data><records><record>…</record>…</records></data>``
  (any wrapper name), recognised when ``data`` has a single child whose
  children all hold fields of their own;
- ``data`` whose content is the records as an escaped XML string (the way
  the real ISUN response carries its own ``data``); that text is parsed with
  DTDs and entities refused, and its root is read as ``data`` (when named so)
  or as its only child.

Inside a record the fields are child elements compared by local name (a
namespace is tolerated), in any order, with surrounding whitespace stripped.
``xsi:type`` and any other attribute of ``data`` are ignored. A field given
twice, or a field holding elements, is a problem of that record; an unknown
field is kept for the rules to warn about. The misspelling ``tenkLevel`` (a
real client's configuration) is read as ``tankLevel`` with a warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from egsu_core.isun.tables import FIELD_ALIASES
from egsu_core.shep.errors import FormatError


@dataclass
class RawRecord:
    position: int  # 1-based, in document order
    fields: dict[str, str]  # local name → stripped text (first occurrence when duplicated)
    problems: list[str] = field(default_factory=list)  # structural faults: the record is rejected
    warnings: list[str] = field(default_factory=list)  # tolerated oddities, reported back
    duplicates: list[str] = field(default_factory=list)  # field names given more than once
    tag: str = "events"  # local name of the record element


def _is_element(node: etree._Element) -> bool:
    return isinstance(node.tag, str)  # comments and processing instructions have a callable tag


def _local(node: etree._Element) -> str:
    tag = node.tag
    return tag.rpartition("}")[2] if tag.startswith("{") else tag  # Clark notation: {namespace}local


def _elements(node: etree._Element) -> list[etree._Element]:
    # lxml's filter keeps elements only (no comments, no processing instructions)
    return list(node.iterchildren(etree.Element)) if len(node) else []


def _own_text(node: etree._Element) -> str:
    """The element's character data, comments skipped, whitespace stripped."""
    if not len(node):
        return (node.text or "").strip()
    parts = [node.text or ""]
    parts += [child.tail or "" for child in node]
    return "".join(parts).strip()


def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


def _escaped_root(data: etree._Element) -> etree._Element | None:
    """The root of the XML text that ``data`` carries as a string, if it carries one."""
    text = (data.text or "").strip()
    if not text.startswith("<"):
        return None
    try:
        tree = etree.ElementTree(etree.fromstring(text.encode("utf-8"), _hardened_parser()))
    except etree.XMLSyntaxError as exc:
        raise FormatError(f"data holds text that is not well-formed XML: {exc.msg}") from exc
    if tree.docinfo.doctype:
        raise FormatError("data holds a document type declaration, which is not allowed")
    return tree.getroot()


def _record_elements(data: etree._Element) -> list[etree._Element]:
    children = _elements(data)
    if not children:
        root = _escaped_root(data)
        if root is None:
            return []
        children = _elements(root) if _local(root) == "data" else [root]
    if len(children) == 1:
        inner = _elements(children[0])
        if inner and all(_elements(grandchild) for grandchild in inner):
            return inner  # one wrapper level: <records><record>…</record></records>
    return children


def _read_record(position: int, element: etree._Element) -> RawRecord:
    record = RawRecord(position=position, fields={}, tag=_local(element))
    field_elements = _elements(element)
    if not field_elements:
        record.problems.append(f"element <{record.tag}> holds no fields")
        return record
    fields = record.fields
    for child in field_elements:
        name = _local(child)
        alias = FIELD_ALIASES.get(name)
        if alias:
            record.warnings.append(f"field {name} read as {alias} (misspelt field name)")
            name = alias
        # The common field: no children at all, so no element list and no joining of tails.
        leaf = not len(child)
        if not leaf and _elements(child):
            record.problems.append(f"field {name} holds elements instead of a value")
        if name in fields:
            if name not in record.duplicates:
                record.duplicates.append(name)
                record.problems.append(f"field {name} is given more than once")
            continue
        fields[name] = (child.text or "").strip() if leaf else _own_text(child)
    return record


def record_chunks(data: etree._Element, size: int, *, release: bool = False) -> Iterator[list[RawRecord]]:
    """``parse_records`` in chunks of ``size`` records, in document order (positions as there).

    Raises FormatError, before the first chunk, when data holds no records. ``release``: each
    chunk's elements are detached from the tree once read (what is judged is the RawRecord, never
    the tree again), so that the parsed tree of a 15 MB message (INT-07) shrinks while its records
    are processed instead of being held beside all of their Python objects.
    """
    elements: list[etree._Element | None] = list(_record_elements(data))
    if not elements:
        raise FormatError("data holds no records")
    for start in range(0, len(elements), size):
        chunk = [
            _read_record(position, element)
            for position, element in enumerate(elements[start : start + size], start=start + 1)
        ]
        if release:
            for index in range(start, min(start + size, len(elements))):
                element, elements[index] = elements[index], None
                parent = element.getparent()
                if parent is not None:
                    parent.remove(element)
            del element
        yield chunk


def parse_records(data: etree._Element) -> list[RawRecord]:
    """Split ``data`` into raw records; raise FormatError when it holds none (the whole message fails)."""
    elements = _record_elements(data)
    if not elements:
        raise FormatError("data holds no records")
    return [_read_record(position, element) for position, element in enumerate(elements, start=1)]
