"""Browser walk-through of a metering scheme's agreement (OGM-01..06), in Kazakh and in Russian.

The subject draws the scheme (two tables of text → a layered diagram), signs and submits it with its
PKCS#12 key store; the authorized body's reviewer takes it, refuses it with reasons; the subject
starts version 2 and submits it again; the reviewer approves it. The signed decision PDF downloaded
from the page verifies. Screenshots: tests/browser/screenshots/schemes-<language>-<step>.png.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import _user, accessibility_problems, shot, sign_in

NODES = "W1; well; Well 101\nW2; well; Well 102\nU1; preparation_unit; UPN-1\nT1; tank; Tank RVS-5000\nF1; flare; Flare\nD1; delivery_point; KTO acceptance point"


@pytest.fixture
def stand(live_server, transactional_db):
    from egsu.access.roles import Role
    from egsu.points.models import MeteringPoint
    from egsu.registry.services import load_dictionaries
    from egsu.schemes.models import Metrology
    from tests.registry.factories import make_device, make_facility, make_product_type, make_subject
    from tests.schemes.conftest import key_store

    load_dictionaries()  # a transactional test starts from an emptied database
    make_product_type()
    own, pipeline = make_subject(name="Munai LLP"), make_subject(name="Pipeline JSC")
    facility = make_facility("A100", kind="1.2", subject=own, name="Field A")
    station = make_facility("P900", kind="1.2", subject=pipeline, name="Pipeline station")
    devices = [make_device(facility, str(n), device_type_id=1, product_type_id=1) for n in (1, 2, 3)]
    devices.append(make_device(station, "1", device_type_id=1, product_type_id=1))
    for device in devices:
        point = MeteringPoint.objects.get(device=device)
        Metrology.objects.create(point=point, type_register_no="KZ.02.03.0001-2021")
    subject = _user("subject-a", Role.SUBJECT, [own])
    reviewer = _user("reviewer", Role.AUTHORITY)
    return {
        "subject": subject, "reviewer": reviewer,
        "subject_key": key_store(own.bin, "Subjectov Aidar"),
        "reviewer_key": key_store("000740000777", "Reviewerova Dana"),
        "flows": "W1; U1; liquid; input; A100/1\nW2; U1; liquid; input; A100/2\nU1; T1; crude_oil; internal\n"
                 "T1; D1; crude_oil; output; P900/1\nU1; F1; gas; output; A100/3",
    }  # fmt: skip


def _sign(page, action: str, key) -> None:
    page.locator(f"#key-store-{action}").set_input_files(
        files=[{"name": "key.p12", "mimeType": "application/x-pkcs12", "buffer": key.data}]
    )
    page.locator(f"#password-{action}").fill(key.password)
    page.locator(f"#{action}").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_a_scheme_is_drawn_refused_resubmitted_and_approved(new_page, stand, language, tmp_path):
    from egsu.schemes import signing
    from egsu.schemes.models import SchemeVersion

    for user in (stand["subject"], stand["reviewer"]):
        user.profile.language = language
        user.profile.save()
    locale = {"kk": "kk-KZ", "ru": "ru-RU"}[language]
    subject = new_page(locale=locale)
    sign_in(subject, "subject-a")
    subject.goto("/cabinet/schemes/")
    subject.locator("form[action$='/new/'] button[type=submit]").click()
    subject.locator("#nodes").fill(NODES)
    subject.locator("#flows").fill(stand["flows"])
    subject.locator("#save").click()
    subject.locator("svg.scheme-diagram").wait_for()
    assert subject.locator("#complete").is_visible()
    assert accessibility_problems(subject) == []
    shot(subject, f"schemes-{language}-1-drawn")
    _sign(subject, "submit", stand["subject_key"])
    assert subject.locator("#version-status").get_attribute("class") == "status submitted"
    assert subject.locator("#deadline .status:not(#calendar-unconfirmed)").count() == 1  # days left shown
    shot(subject, f"schemes-{language}-2-submitted")

    reviewer = new_page(locale=locale)
    sign_in(reviewer, "reviewer")
    version = SchemeVersion.objects.get(number=1)
    reviewer.goto(f"/cabinet/schemes/v/{version.pk}/")
    _sign(reviewer, "take", stand["reviewer_key"])
    reviewer.locator("#reasons-text").fill("Нет узла учёта закачки воды / Су айдау есептеу торабы жоқ.")
    _sign(reviewer, "refuse", stand["reviewer_key"])
    assert reviewer.locator("#version-status").get_attribute("class") == "status refused"
    assert "Су айдау" in reviewer.locator("#reasons").inner_text()
    shot(reviewer, f"schemes-{language}-3-refused")

    subject.goto(f"/cabinet/schemes/v/{version.pk}/")
    subject.locator("#new-version").click()
    subject.locator("#nodes").wait_for()
    subject.locator("#nodes").fill(NODES + "\nR1; reinjection; Reinjection")
    subject.locator("#flows").fill(stand["flows"] + "\nU1; R1; water; internal")
    subject.locator("#save").click()
    subject.locator("svg.scheme-diagram").wait_for()
    _sign(subject, "submit", stand["subject_key"])
    version2 = SchemeVersion.objects.get(number=2)
    assert version2.status == "submitted"

    reviewer.goto(f"/cabinet/schemes/v/{version2.pk}/")
    _sign(reviewer, "take", stand["reviewer_key"])
    _sign(reviewer, "approve", stand["reviewer_key"])
    assert reviewer.locator("#version-status").get_attribute("class") == "status approved"
    assert accessibility_problems(reviewer) == []
    shot(reviewer, f"schemes-{language}-4-approved")
    href = reviewer.locator("a[href$='decision.pdf']").get_attribute("href")
    answer = reviewer.context.request.get(href)  # the signed-in browser's own cookies
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    verdict = signing.verify_document(answer.body())
    assert verdict.fields["decision"] == "approve" and verdict.fields["version"] == "2"
    subject.goto("/cabinet/schemes/")
    shot(subject, f"schemes-{language}-5-list")
