"""Every cabinet page the test world reaches, in Kazakh, Russian and English; the language switcher.

Pages are asked for with the `django_language` cookie (what the switcher sets) and must answer in
that language: `<html lang>`, the menu and the page's own heading, translated. A new visitor gets
Kazakh, the default (issue 5 item 6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from egsu.access.models import Profile
from egsu.access.roles import Role
from egsu.access.scope import scope_for
from egsu.quality import act_document
from egsu.quality import services as quality
from egsu.reports.models import ExportJob
from egsu_core.clock import utcnow
from tests.cabinet.conftest import START

pytestmark = [pytest.mark.django_db, pytest.mark.product_language]

LANGUAGES = ["kk", "ru", "en"]
PERIOD = "start=2025-06-01&end=2025-06-03"
# The chrome of every signed-in page, written out once per language (not looked up) as an anchor.
CHROME = {
    "kk": ("Шолу", "Шығу", "Уақыт Астана уақытымен көрсетілген (Asia/Almaty)."),
    "ru": ("Обзор", "Выйти", "Время указано по Астане (Asia/Almaty)."),
    "en": ("Overview", "Sign out", "Times are Astana time (Asia/Almaty)."),
}


@dataclass(frozen=True)
class Page:
    name: str
    role: str
    path: str  # formatted with the fixtures below
    heading: str  # msgid of a string the page must show, in the asked language
    status: int = 200
    args: tuple = ()  # format arguments of `heading`, by name of a fixture value


PAGES = [
    Page("login", "anonymous", "/accounts/login/", "Sign in"),
    Page("overview", Role.OPERATOR, "/cabinet/", "Overview"),
    Page("arrivals", Role.OPERATOR, f"/cabinet/monitoring/?{PERIOD}", "Arrivals"),
    Page(
        "subject-arrivals",
        Role.OPERATOR,
        f"/cabinet/monitoring/subjects/{{bin}}/?{PERIOD}",
        "Back to all arrivals",
    ),
    Page("points", Role.OPERATOR, "/cabinet/points/", "Metering points"),
    Page("points-grouped", Role.OPERATOR, "/cabinet/points/?group=region", "Groups"),
    Page("point", Role.SUBJECT, "/cabinet/points/{point}/", "Last update received"),
    Page("readings", Role.OPERATOR, f"/cabinet/readings/?{PERIOD}&interval=PT2H", "Trends"),
    Page("national-totals", Role.AUTHORITY, f"/cabinet/totals/?{PERIOD}", "National totals"),
    Page("corrections", Role.OPERATOR, "/cabinet/corrections/", "Manual corrections"),
    Page("propose", Role.OPERATOR, "/cabinet/corrections/propose/", "Propose a correction"),
    Page("act", Role.SUBJECT, "/cabinet/corrections/{act}/", "Commission act %(n)s", args=("act_number",)),
    Page("export", Role.OPERATOR, "/cabinet/exports/{job}/", "Progress"),
    Page("users", Role.OPERATOR, "/cabinet/access/users/", "Users"),
    Page("user-add", Role.OPERATOR, "/cabinet/access/users/add/", "Add a user"),
    Page(
        "user-edit", Role.OPERATOR, "/cabinet/access/users/{user}/", "Edit user %(name)s", args=("username",)
    ),
    Page("user-deactivate", Role.OPERATOR, "/cabinet/access/users/{user}/status/", "Deactivate user"),
    Page("audit", Role.OPERATOR, "/cabinet/access/audit/", "Audit log"),
    Page("password", Role.SUBJECT, "/cabinet/access/password/", "Change password"),
    Page("api-tokens", Role.SUBJECT, "/cabinet/api-tokens/", "Your tokens"),
    Page("not-found", Role.SUBJECT, "/cabinet/points/{other_point}/", "Not found", status=404),
    Page("not-allowed", Role.SUBJECT, "/cabinet/access/users/", "Not allowed", status=403),
]


@pytest.fixture
def places(world) -> dict:
    """The ids the page paths need: a proposed act on the own device and an export job."""
    operator = world.users[Role.OPERATOR]
    line = quality.LineProposal(
        world.own_facility.object_id, world.own_device.device_id, "volume", "PT2H",
        START + timedelta(hours=2), Decimal("111.5"),
    )  # fmt: skip
    act = quality.propose(scope_for(operator), operator, [line], "Meter drift found by the commission")
    job = ExportJob.objects.create(
        created_by=operator, created_at=utcnow(), what="readings", format="xlsx", status="running",
        rows_done=1, rows_total=4,
    )  # fmt: skip
    subject_user = world.users[Role.SUBJECT]
    return {
        "bin": world.own.bin, "point": world.own_device.metering_point.pk,
        "other_point": world.other_device.metering_point.pk,
        "act": act.pk, "act_number": act.number, "job": job.pk, "user": subject_user.pk,
        "username": subject_user.username,
    }  # fmt: skip


def _in(lang: str, client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return client


def _html_lang(content: str) -> str:
    return re.search(r'<html lang="([^"]*)"', content).group(1)


def _text(msgid: str, lang: str, values: dict | None = None) -> str:
    """msgid in that language, as a page shows it (HTML-escaped)."""
    with translation.override(lang):
        text = translation.gettext(msgid)
    return escape(text % values if values else text)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_cabinet_page_speaks_the_chosen_language(client_for, places, page, lang):
    # given a user of the page's role who chose a language with the switcher (its cookie)
    client = _in(lang, client_for(page.role))
    # when the page is opened
    response = client.get(page.path.format(**places))
    content = response.content.decode()
    # then it answers in that language: <html lang>, the page's own words and, signed in, the chrome
    assert response.status_code == page.status
    assert _html_lang(content) == lang
    values = {"n": places[page.args[0]], "name": places[page.args[0]]} if page.args else None
    heading = _text(page.heading, lang, values)
    assert heading in content
    if lang != "en":
        assert heading != escape(page.heading % values if values else page.heading)  # really translated
    if page.role != "anonymous":
        assert all(escape(words) in content for words in CHROME[lang])


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_no_english_menu_label_is_left_on_a_translated_page(client_for, lang):
    # given the operator, who sees every menu item
    content = _in(lang, client_for(Role.OPERATOR)).get("/cabinet/").content.decode()
    menu = re.search(r'<ul class="menu">(.*?)</ul>', content, re.S).group(1)
    labels = re.findall(r">([^<>]+)</a>", menu)
    # then every label is in the chosen language, none in English
    assert len(labels) >= 6
    assert [label for label in labels if re.search("[A-Za-z]", label)] == []


@pytest.mark.parametrize(
    "accept_language", [None, "de-DE,de;q=0.9", "fr"], ids=["no-preference", "german", "french"]
)
def test_a_new_visitor_gets_kazakh(accept_language):
    # given a visitor with no language cookie whose browser asks for no language the system has
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    # when the sign-in page opens
    response = Client().get("/accounts/login/", **headers)
    content = response.content.decode()
    # then it is Kazakh, the default
    assert (response.status_code, _html_lang(content)) == (200, "kk")
    assert (
        "<h1>Кіру</h1>" in content
        and "Отын-энергетика кешенін басқарудың бірыңғай мемлекеттік жүйесі" in content
    )


def test_a_signed_in_user_without_a_cookie_gets_kazakh_by_default(client_for):
    # given a user whose profile keeps the default language, with no cookie yet
    content = client_for(Role.OPERATOR).get("/cabinet/").content.decode()
    # then the cabinet is Kazakh
    assert _html_lang(content) == "kk" and "<h1>Шолу</h1>" in content


def test_the_switcher_offers_every_language_with_the_current_one_selected(client_for):
    # given a Russian page
    content = _in("ru", client_for(Role.OPERATOR)).get("/cabinet/").content.decode()
    form = re.search(r'<form action="/i18n/setlang/" method="post" class="lang">(.*?)</form>', content, re.S)
    # then the switcher posts to Django's set_language, back to this page, labelled, with kk, ru and en
    assert form is not None
    assert '<input name="next" type="hidden" value="/cabinet/">' in form.group(1)
    assert '<label for="lang-select" class="sr-only">Язык</label>' in form.group(1)
    options = re.findall(r'<option value="(\w+)"( selected)?>', form.group(1))
    assert options == [("kk", ""), ("ru", " selected"), ("en", "")]


@pytest.mark.parametrize(
    ("lang", "overview"), [("ru", "Обзор"), ("en", "Overview"), ("kk", "Шолу")], ids=["ru", "en", "kk"]
)
def test_the_switcher_changes_the_language_of_the_next_pages(client_for, lang, overview):
    # given a signed-in operator on the Kazakh overview
    client = client_for(Role.OPERATOR)
    assert _html_lang(client.get("/cabinet/").content.decode()) == "kk"
    # when it picks a language in the switcher
    response = client.post("/i18n/setlang/", {"language": lang, "next": "/cabinet/"})
    # then it is sent back to the page, remembered in the cookie, and the pages follow
    assert (response.status_code, response["Location"]) == (302, "/cabinet/")
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == lang
    content = client.get("/cabinet/points/").content.decode()
    assert _html_lang(content) == lang and f"<h1>{overview}</h1>" in client.get("/cabinet/").content.decode()


def test_a_choice_outranks_the_profile_language(client_for, world):
    # given a user whose profile says Russian
    Profile.objects.filter(user=world.users[Role.OPERATOR]).update(language="ru")
    client = client_for(Role.OPERATOR)
    assert _html_lang(client.get("/cabinet/").content.decode()) == "ru"
    # when it switches to English, then English it is
    client.post("/i18n/setlang/", {"language": "en", "next": "/cabinet/"})
    assert _html_lang(client.get("/cabinet/").content.decode()) == "en"


def test_an_unknown_language_is_refused_by_the_switcher(client_for):
    # given a request for a language the system does not have
    client = client_for(Role.OPERATOR)
    client.post("/i18n/setlang/", {"language": "de", "next": "/cabinet/"})
    # then German is not remembered and the page stays Kazakh
    remembered = client.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    assert remembered is None or remembered.value == "kk"
    assert _html_lang(client.get("/cabinet/").content.decode()) == "kk"


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_commission_act_captions_are_translated(lang):
    # given the captions of the act PDF (Rules §53), built in the active language
    with translation.override("en"):
        english = act_document.labels()
    with translation.override(lang):
        captions = act_document.labels()
    # then every caption is translated and the {source} slot survives
    assert [key for key in captions if captions[key] == english[key]] == []
    assert "{source}" in captions["keeps"]
