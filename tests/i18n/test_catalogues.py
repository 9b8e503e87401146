"""The Kazakh and Russian catalogues: complete, compilable, placeholders intact, the order's terms.

The .po files are the source of truth (egsu/locale); the .mo files are built from them by
egsu.catalogs (babel), so these tests read the .po files and compile them the same way.
"""

from __future__ import annotations

import gettext
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po
from django.utils.translation.template import templatize

from egsu.catalogs import LOCALE_DIR, compile_catalogs

pytestmark = pytest.mark.product_language

SOURCE = LOCALE_DIR.parent  # the egsu package
LANGUAGES = ["kk", "ru"]
PLURAL_FORMS = {
    "kk": (2, "nplurals=2; plural=(n != 1);"),
    "ru": (
        3,
        "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    ),
}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
MAKEMESSAGES = (
    "python manage.py makemessages -l kk -l ru --ignore=.venv --ignore=var --ignore=agent --ignore=tests "
    "--ignore=benchmarks"
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}|%%")


def _catalog(lang: str):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "django.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def _messages(lang: str) -> list:
    return [message for message in _catalog(lang) if message.id]


def _key(message) -> tuple[str | None, str]:
    return message.context, message.id[0] if isinstance(message.id, tuple) else message.id


def _forms(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _source_messages() -> set[tuple[str | None, str]]:
    """What makemessages would extract: gettext calls in our Python code and i18n tags in templates."""
    found = set()
    for path in sorted(SOURCE.rglob("*")):
        if "migrations" in path.parts or "locale" in path.parts or not path.is_file():
            continue
        if path.suffix == ".py":
            code = path.read_bytes()
        elif path.suffix in {".html", ".txt"} and "templates" in path.parts:
            code = templatize(path.read_text(encoding="utf-8"), origin=str(path)).encode("utf-8")
        else:
            continue
        for _lineno, message, _comments, context in extract("python", io.BytesIO(code), keywords=KEYWORDS):
            found.add((context, message[0] if isinstance(message, tuple) else message))
    return found


# ------------------------------------------------------------------ complete


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(lang):
    # given the catalogue as committed
    messages = _messages(lang)
    # then it holds the cabinet's strings, each one translated in every plural form, none fuzzy
    assert len(messages) > 500
    assert [m.id for m in messages if not all(_forms(m))] == []
    assert [m.id for m in messages if m.fuzzy] == []
    assert _catalog(lang).fuzzy is False  # the header too


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_of_the_source_is_in_the_catalogue(lang):
    # given every string the code and the templates mark for translation
    in_source = _source_messages()
    # then the catalogue has each of them (if not: run MAKEMESSAGES, then translate the new entries)
    in_catalogue = {_key(m) for m in _messages(lang)}
    assert sorted(in_source - in_catalogue, key=str) == [], MAKEMESSAGES


# ------------------------------------------------------------------ well-formed


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_forms_are_those_of_the_language(lang):
    # given Kazakh (Django's rule: two forms) and Russian (three forms: 1, 2-4, 5+)
    nplurals, header = PLURAL_FORMS[lang]
    catalog = _catalog(lang)
    # then the header says so and every plural message has exactly that many forms
    assert (catalog.num_plurals, catalog.plural_forms) == (nplurals, header)
    plurals = [m for m in _messages(lang) if m.pluralizable]
    assert plurals and [m.id for m in plurals if len(m.string) != nplurals] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_are_kept_exactly(lang):
    # given each message and its translation
    wrong = []
    for message in _messages(lang):
        source = message.id[1] if message.pluralizable else message.id
        for form in _forms(message):
            # then every %(name)s, {name} and %% of the source is in the translation, no more, no less
            if _placeholders(form) != _placeholders(source):
                wrong.append((source, form))
    assert wrong == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_add_no_quotes_or_markup(lang):
    # given translations that templates put into HTML attributes and JavaScript strings
    risky = re.compile(r"[\"<>&\\]")
    # then none brings a straight double quote, markup or a backslash the source did not have
    added = [
        form
        for message in _messages(lang)
        for form in _forms(message)
        if set(risky.findall(form)) - set(risky.findall(str(message.id)))
    ]
    assert added == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogue_compiles_with_babel_and_translates(lang, tmp_path):
    # given a copy of the catalogue compiled the way `egsu init`, `serve` and the tests do
    po_dir = tmp_path / lang / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    shutil.copy(LOCALE_DIR / lang / "LC_MESSAGES" / "django.po", po_dir / "django.po")
    assert compile_catalogs(tmp_path) == [po_dir / "django.mo"]
    # when the .mo is read by Python's gettext
    with (po_dir / "django.mo").open("rb") as handle:
        mo = gettext.GNUTranslations(handle)
    # then it translates, with the language's plural rule
    expected = {
        "kk": ("Деректердің түсуі", "%(n)s аспап", "%(n)s аспап"),
        "ru": ("Поступление данных", "%(n)s прибора", "%(n)s приборов"),
    }[lang]
    assert (mo.gettext("Arrivals"), mo.ngettext("%(n)s device", "%(n)s devices", 3),
            mo.ngettext("%(n)s device", "%(n)s devices", 11)) == expected  # fmt: skip


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_gnu_msgfmt_checks_the_catalogue(lang, tmp_path):
    # given GNU gettext's own checks (format strings, header, plural forms)
    po = Path(LOCALE_DIR / lang / "LC_MESSAGES" / "django.po")
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(po)],
        capture_output=True, text=True, timeout=60, env={"LC_ALL": "C"},
    )  # fmt: skip
    # then it passes and counts no fuzzy or untranslated message
    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr


# ------------------------------------------------------------------ the order's words


TERMS = [  # (language, English source, the order's term)
    (
        "kk",
        "Unified State System for Management of the FEC",
        "Отын-энергетика кешенін басқарудың бірыңғай мемлекеттік жүйесі",
    ),
    ("kk", "Authorized body", "Уәкілетті орган"),
    ("kk", "Data operator", "Деректер операторы"),
    ("kk", "Subject user", "ОЭК субъектісінің пайдаланушысы"),
    ("kk", "Subjects", "ОЭК субъектілері"),
    ("kk", "Devices", "Есепке алу аспаптары"),
    (
        "kk",
        "Commission act on the correction of metering data",
        "Есепке алу деректерін түзету туралы комиссиялық акт",
    ),
    ("kk", "Reason for the discrepancy", "Алшақтықтың себебі"),
    ("ru", "EGSU", "ЕГСУ ТЭК"),
    ("ru", "Authorized body", "Уполномоченный орган"),
    ("ru", "Data operator", "Оператор данных"),
    ("ru", "Subject user", "Пользователь субъекта ТЭК"),
    ("ru", "Subjects", "Субъекты ТЭК"),
    ("ru", "Devices", "Приборы учета"),
    (
        "ru",
        "Commission act on the correction of metering data",
        "Комиссионный акт о корректировке данных учета",
    ),
    ("ru", "Reason for the discrepancy", "Причина расхождения"),
]


@pytest.mark.parametrize(
    ("lang", "msgid", "expected"), [pytest.param(*term, id=f"{term[0]}-{term[1]}") for term in TERMS]
)
def test_the_order_terms_are_used(lang, msgid, expected):
    # given the glossary of the order (requirements.md §19) and the brief's terms
    translations = {m.id: m.string for m in _messages(lang)}
    # then the cabinet uses them word for word
    assert translations[msgid] == expected
