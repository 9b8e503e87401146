"""Browser screenshots of a subject filing its gateway connection application and of a metering point's
metrology page, in Russian: tests/browser/screenshots/connections-ru-*.png and metrology-ru.png."""

from __future__ import annotations

import pytest

from tests.browser.conftest import _user, accessibility_problems, shot, sign_in


@pytest.fixture
def stand(live_server, transactional_db):
    from egsu.access.roles import Role
    from egsu.registry.services import load_dictionaries
    from tests.registry.factories import make_device, make_facility, make_product_type, make_subject
    from tests.schemes.conftest import key_store

    load_dictionaries()
    make_product_type()
    own = make_subject(name="Munai LLP")
    device = make_device(make_facility("A100", kind="1.2", subject=own, name="Field A"), "1", device_type_id=1,
                         product_type_id=1)  # fmt: skip
    subject, operator = _user("subject-a", Role.SUBJECT, [own]), _user("operator", Role.OPERATOR)
    for user in (subject, operator):
        user.profile.language = "ru"
        user.profile.save()
    return {"device": device, "bin": own.bin, "key": key_store(own.bin, "Subjectov Aidar")}


def test_a_connection_application_and_a_metrology_page(new_page, stand):
    from egsu.points.models import MeteringPoint
    from egsu.signatures import services as signatures

    page = new_page(locale="ru-RU")
    sign_in(page, "subject-a")
    page.goto("/cabinet/connections/new/")
    for code, value in {"grounds": "Кодекс о недрах, ст. 144", "phone": "+7 701 000 00 00", "email": "it@munai.kz",
                        "is_name": "АСУ Munai", "login": "munai-asu", "test_ip": "203.0.113.10",
                        "test_port": "8443"}.items():  # fmt: skip
        page.locator(f"#f-{code}").fill(value)
    page.locator("#test_password").fill("test-Password-123")
    page.locator("#production_password").fill("production-Password-456")
    cert = signatures.test_ca().issue_subject(stand["bin"], "X", "Subjectov Aidar", "900101300123").cert_pem
    page.locator("#certificate").set_input_files(files=[{"name": "t.cer", "mimeType": "application/pkix-cert",
                                                         "buffer": cert}])  # fmt: skip
    page.locator("#key-store-file").set_input_files(files=[{"name": "k.p12", "mimeType": "application/x-pkcs12",
                                                            "buffer": stand["key"].data}])  # fmt: skip
    page.locator("#password-file").fill(stand["key"].password)
    assert accessibility_problems(page) == []
    shot(page, "connections-ru-1-form")
    page.locator("#file").click()
    page.locator("#app-status").wait_for()
    assert page.locator("#app-status").get_attribute("class") == "status filed"
    shot(page, "connections-ru-2-filed")

    point = MeteringPoint.objects.get(device=stand["device"])
    page.goto(f"/cabinet/schemes/point/{point.pk}/")
    page.locator("#type_register_no").fill("KZ.02.03.0001-2021")
    page.locator("#method_ref").fill("МВИ по ГОСТ 8.587")
    page.locator("form:has(#type_register_no) button[type=submit]").click()
    page.locator("#kind").select_option("passport")
    page.locator("#file").set_input_files(files=[{"name": "passport.pdf", "mimeType": "application/pdf",
                                                  "buffer": b"%PDF-1.4 passport"}])  # fmt: skip
    page.locator("form:has(#kind) button[type=submit]").click()
    page.get_by_role("link", name="passport.pdf").wait_for()
    assert accessibility_problems(page) == []
    shot(page, "metrology-ru")
