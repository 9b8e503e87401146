"""Splitting the ``data`` element into raw records (COL-08, shep-notes §4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from egsu_core.isun.records import parse_records, record_chunks
from egsu_core.isun.samples import records_element
from egsu_core.shep.errors import FormatError
from tests.isun.conftest import real_data

XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def data(xml: str) -> etree._Element:
    return etree.fromstring(xml)


@pytest.mark.shared
def test_real_example_gives_nine_records_with_their_fields():
    # given the real ISUN_Service2 request
    # when
    records = parse_records(real_data())
    # then
    assert [r.position for r in records] == list(range(1, 10))
    assert [r.fields["id"] for r in records] == [f"40700{n}" for n in (1, 4, 5, 2, 6, 7, 3, 8, 9)]
    assert records[0].fields == {
        "id": "407001",
        "datetime": "2024-01-11T13:00:00.000+00:00",
        "operationTypeId": "3",
        "productTypeId": "1",
        "pipelineId": "3",
        "deviceTypeId": "2",
        "deviceNameId": "1",
        "density": "716.1492",
        "volume": "0",
        "mass": "80.46875",
        "temperature": "0",
        "massflowbegin": "132856.1",
        "massflowend": "132936.6",
    }
    assert all(r.problems == [] and r.warnings == [] for r in records)


ONE = "<id>1</id><volume>2</volume>"
TWO = "<id>2</id><volume>3</volume>"


@pytest.mark.parametrize(
    "xml",
    [
        f"<data><events>{ONE}</events><events>{TWO}</events></data>",
        f"<data><record>{ONE}</record><record>{TWO}</record></data>",
        f"<data><row>{ONE}</row><row>{TWO}</row></data>",
        f"<data><records><record>{ONE}</record><record>{TWO}</record></records></data>",
        f"<data><events><events>{ONE}</events><events>{TWO}</events></events></data>",
        f"<data>&lt;data&gt;&lt;events&gt;{ONE}&lt;/events&gt;&lt;events&gt;{TWO}&lt;/events&gt;&lt;/data&gt;</data>".replace(
            "<id>", "&lt;id&gt;"
        )
        .replace("</id>", "&lt;/id&gt;")
        .replace("<volume>", "&lt;volume&gt;")
        .replace("</volume>", "&lt;/volume&gt;"),
        f"<data><![CDATA[<records><record>{ONE}</record><record>{TWO}</record></records>]]></data>",
        f'<data {XSI} xmlns:cs="http://message.persistence.interactive.nat" xsi:type="cs:Request">'
        f"<events>{ONE}</events><events>{TWO}</events></data>",
        f'<data {XSI} xsi:type="cs:Request"><events>{ONE}</events><events>{TWO}</events></data>',
        f'<data xmlns:e="urn:x"><e:events>{ONE}</e:events><e:events><e:id>2</e:id><e:volume>3</e:volume>'
        "</e:events></data>",
        f"<data>\n  <events>\n    <volume> 2 </volume>\n    <id>\n1\n</id>\n  </events>\n  <events>{TWO}</events>"
        "<!-- a comment --></data>",
    ],
    ids=[
        "events",
        "record",
        "any-name",
        "records-wrapper",
        "events-wrapper",
        "escaped-string",
        "cdata-string",
        "xsi-type-declared",
        "xsi-type-undeclared",
        "namespaced",
        "whitespace-and-order",
    ],
)
def test_accepted_containers_give_the_same_records(xml):
    # when
    records = parse_records(data(xml))
    # then
    assert [(r.position, r.fields, r.problems) for r in records] == [
        (1, {"id": "1", "volume": "2"}, []),
        (2, {"id": "2", "volume": "3"}, []),
    ]


@pytest.mark.parametrize(
    "xml",
    ["<data/>", "<data>   </data>", "<data><!-- nothing --></data>", "<data>plain text</data>"],
    ids=["empty", "whitespace", "comment", "text"],
)
def test_data_without_records_fails_the_whole_message(xml):
    with pytest.raises(FormatError) as caught:
        parse_records(data(xml))
    assert caught.value.detail == "data holds no records"
    assert caught.value.code == "SCE001"


def test_escaped_payload_with_a_doctype_is_refused():
    xml = (
        '<data>&lt;!DOCTYPE data [&lt;!ENTITY x "y"&gt;]&gt;&lt;data&gt;&lt;events&gt;&lt;id&gt;&amp;x;'
        "&lt;/id&gt;&lt;/events&gt;&lt;/data&gt;</data>"
    )
    with pytest.raises(FormatError) as caught:
        parse_records(data(xml))
    assert caught.value.detail == "data holds a document type declaration, which is not allowed"


def test_escaped_payload_that_is_not_xml_is_a_format_error():
    with pytest.raises(FormatError) as caught:
        parse_records(data("<data>&lt;events&gt;&lt;id&gt;1</data>"))
    assert caught.value.detail.startswith("data holds text that is not well-formed XML")


def test_duplicate_field_is_a_problem_of_that_record_only():
    # given
    xml = (
        "<data><events><id>1</id><volume>2</volume><volume>2</volume></events><events>"
        + TWO
        + "</events></data>"
    )
    # when
    first, second = parse_records(data(xml))
    # then
    assert (first.fields, first.duplicates, first.problems) == (
        {"id": "1", "volume": "2"},
        ["volume"],
        ["field volume is given more than once"],
    )
    assert second.problems == []


def test_tenk_level_is_read_as_tank_level_with_a_warning():
    (record,) = parse_records(data("<data><events><id>1</id><tenkLevel>12.5</tenkLevel></events></data>"))
    assert record.fields == {"id": "1", "tankLevel": "12.5"}
    assert record.warnings == ["field tenkLevel read as tankLevel (misspelt field name)"]


def test_tenk_level_and_tank_level_together_are_a_duplicate():
    xml = "<data><events><tankLevel>1</tankLevel><tenkLevel>2</tenkLevel></events></data>"
    (record,) = parse_records(data(xml))
    assert record.duplicates == ["tankLevel"]


def test_unknown_fields_are_kept():
    (record,) = parse_records(data("<data><events><id>1</id><colour>red</colour></events></data>"))
    assert record.fields == {"id": "1", "colour": "red"}


def test_nested_field_and_empty_record_are_problems():
    xml = "<data><events><id>1</id><volume><v>2</v></volume></events><events/><flag>x</flag></data>"
    first, second, third = parse_records(data(xml))
    assert first.problems == ["field volume holds elements instead of a value"]
    assert second.problems == ["element <events> holds no fields"]
    assert third.problems == ["element <flag> holds no fields"]


def test_comment_inside_a_value_is_skipped():
    (record,) = parse_records(data("<data><events><id>40<!-- x -->7001</id></events></data>"))
    assert record.fields == {"id": "407001"}


FIELD_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,15}", fullmatch=True).filter(lambda n: n != "tenkLevel")
FIELD_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)


@given(st.lists(st.dictionaries(FIELD_NAMES, FIELD_TEXT, min_size=1, max_size=8), min_size=1, max_size=5))
def test_built_records_parse_back(records):
    # when
    parsed = parse_records(records_element(records))
    # then
    assert [r.fields for r in parsed] == [{k: v.strip() for k, v in record.items()} for record in records]


def test_records_read_in_chunks_are_the_same_records_and_release_empties_the_tree():
    # given data with five records (INT-07: a large message is read a chunk at a time)
    xml = (
        "<data>"
        + "".join(f"<events><ID>{n}</ID><volume> {n}.5 </volume></events>" for n in range(1, 6))
        + "</data>"
    )
    whole = parse_records(data(xml))
    kept, released = data(xml), data(xml)
    # when
    chunks = list(record_chunks(kept, 2))
    freed = list(record_chunks(released, 2, release=True))
    # then: positions and fields as parse_records gives them, in chunks of two
    assert [len(c) for c in chunks] == [2, 2, 1] == [len(c) for c in freed]
    assert [(r.position, r.fields) for c in chunks for r in c] == [(r.position, r.fields) for r in whole]
    assert [(r.position, r.fields) for c in freed for r in c] == [(r.position, r.fields) for r in whole]
    assert len(kept) == 5 and len(released) == 0  # released: the records left the tree once read


def test_record_chunks_refuse_data_without_records():
    with pytest.raises(FormatError, match="no records"):
        next(record_chunks(data("<data/>"), 10))
