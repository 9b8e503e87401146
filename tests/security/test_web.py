"""The web cabinet against hostile users (issue: security suite; Rules ch. 9, ACC-09..13).

Covers: CSRF on every form of every parameterless page; a new session key at sign-in (session
fixation); names with markup shown as text on pages and in PDFs (XSS); names that start like a
formula kept as text in Excel exports (formula injection); search fields that are not SQL;
export downloads that cannot be steered to another file (path traversal); an oversized AMI body.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook

from egsu.access.roles import Role
from egsu.points.models import MeteringPoint
from egsu.points.services import refresh_all
from tests.cabinet.conftest import PASSWORD, client_for, world  # noqa: F401 - shared fixtures

SCRIPT = '<script>alert("xss")</script>'
FORMULA = '=HYPERLINK("http://evil.example/steal","open me")'
# Not pages a person fills in with a session: the gateway (SOAP), the REST intakes and APIs
# (token-authenticated, no cookies), the admin (Django's own, tested upstream), static files.
NOT_COOKIE_FORMS = ("shep/", "api/", "admin/", "vendor/", "i18n/", "test-pki/")


def _plain_paths() -> list[str]:
    """Every URL of the site that takes no parameters (the pages reachable from the menu)."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern):
                full = prefix + route
                if "<" in full or "^" in full or "(" in full or full.startswith(NOT_COOKIE_FORMS):
                    continue
                found.append("/" + full)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def _rename_own_subject(world, name: str) -> None:  # noqa: F811 - the fixture's value
    world.own.name = name
    world.own.save()
    refresh_all()


def test_every_form_of_the_cabinet_refuses_a_post_without_the_csrf_token(world):  # noqa: F811
    checked = []
    for role in (Role.OPERATOR, Role.SUBJECT):
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.users[role])
        for path in _plain_paths():
            page = client.get(path)
            if page.status_code != 200 or page.streaming or b'method="post"' not in page.content.lower():
                continue
            answer = client.post(path, {"anything": "1"})
            assert answer.status_code == 403, f"{role} POST {path} without a CSRF token: {answer.status_code}"
            checked.append(path)
    assert len(set(checked)) >= 4, checked  # the suite really reached forms (exports, filters, feedback, …)


def test_signing_in_gives_a_new_session_key(world):  # noqa: F811
    client = Client()
    client.get("/accounts/login/")
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    planted = session.session_key
    client.cookies["sessionid"] = planted
    answer = client.post("/accounts/login/", {"username": "operator", "password": PASSWORD})
    assert answer.status_code == 302
    assert client.session.session_key != planted


def test_markup_in_a_name_is_shown_as_text_on_every_page_that_lists_it(world, client_for):  # noqa: F811
    _rename_own_subject(world, SCRIPT)
    client = client_for(Role.OPERATOR)
    point = MeteringPoint.objects.get(subject=world.own)
    pages = ["/cabinet/points/", f"/cabinet/points/{point.pk}/", "/cabinet/monitoring/",
             "/cabinet/totals/?group=subject", "/cabinet/readings/"]  # fmt: skip
    shown = 0
    for path in pages:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert SCRIPT.encode() not in answer.content, f"{path} lets a subject's name run as a script"
        shown += b"&lt;script&gt;alert(" in answer.content
    assert shown >= 2  # the name is there, escaped


def _export(client, what: str, fmt: str) -> bytes:
    answer = client.post("/cabinet/exports/new/", {"what": what, "format": fmt})
    assert answer.status_code == 200, answer.status_code
    return answer.content


def test_a_name_that_starts_like_a_formula_stays_text_in_the_excel_export(world, client_for):  # noqa: F811
    _rename_own_subject(world, FORMULA)
    book = load_workbook(io.BytesIO(_export(client_for(Role.OPERATOR), "points", "xlsx")))
    cells = [c for row in book.active.iter_rows() for c in row if str(c.value or "").startswith(FORMULA)]
    assert cells, "the subject's name is in the export"
    assert {cell.data_type for cell in cells} == {"s"}  # text, shown as typed, never run


def test_markup_in_a_name_is_printed_as_text_in_the_pdf_export(world, client_for):  # noqa: F811
    _rename_own_subject(world, SCRIPT)
    content = _export(client_for(Role.OPERATOR), "points", "pdf")
    assert content.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is absent: the PDF's text is not checked")
    text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout
    assert b'<script>alert("xss")' in text.replace(b"\n", b"")


@pytest.mark.parametrize(
    "search", ["' OR 1=1 --", '" OR ""="', "%", "_", "1); DROP TABLE points_meteringpoint; --"]
)
def test_search_text_is_never_sql(world, client_for, search):  # noqa: F811
    answer = client_for(Role.OPERATOR).get("/cabinet/points/", {"q": search})
    assert answer.status_code == 200
    assert answer.context["page"].paginator.count == 0
    assert MeteringPoint.objects.count() == 2


@pytest.mark.parametrize(
    "path",
    ["/cabinet/exports/..%2F..%2Fetc%2Fpasswd/download/", "/cabinet/exports/1/download/?file=../../etc/passwd",
     "/static/../egsu/settings.py", "/static/%2e%2e/%2e%2e/etc/passwd"],
)  # fmt: skip
def test_downloads_cannot_be_steered_to_another_file(world, client_for, path):  # noqa: F811
    answer = client_for(Role.OPERATOR).get(path)
    assert answer.status_code == 404
    body = b"".join(answer.streaming_content) if answer.streaming else answer.content
    assert b"root:" not in body and b"SECRET_KEY" not in body


@pytest.mark.parametrize("content_type", ["application/json", "text/csv"])
def test_an_oversized_ami_body_is_refused_before_it_is_read(db, settings, content_type):
    """A body past the intake's limit (INT-07's 15 MB, here set lower) gets 413 and stores nothing."""
    from egsu.readings.services import get_store
    from egsu.readings.store import ReadingQuery
    from tests.ami.conftest import make_world

    ami = make_world(1)
    settings.CONFIG = dataclasses.replace(settings.CONFIG, max_message_bytes=64 * 1024)
    body = b"x" * (64 * 1024 + 1)
    answer = Client().post(
        "/api/ami/v1/batches", body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {ami.token}"
    )
    assert answer.status_code == 413, (answer.status_code, answer.content[:300])
    assert answer.json()["code"] == "too-large"
    assert list(get_store().rows(ReadingQuery())) == []
