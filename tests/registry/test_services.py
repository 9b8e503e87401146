"""Sender authentication (SCE002), service rights (SCE003/SCE004) and the fixed dictionaries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from egsu.registry import services
from egsu.registry.models import DeviceType, OperationType, Service
from egsu.registry.services import authenticate_sender, load_dictionaries, service_exists, system_may_call
from egsu_core.isun.tables import DEVICE_TYPES, OPERATION_TYPES
from tests.registry.factories import make_system

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Password"


@pytest.fixture(autouse=True)
def _fresh_cache():
    services.clear_authentication_cache()
    yield
    services.clear_authentication_cache()


def test_right_credentials_return_the_system():
    system = make_system("client-1", PASSWORD)
    assert authenticate_sender("client-1", PASSWORD) == system


@pytest.mark.parametrize(
    ("sender_id", "password"),
    [
        pytest.param("client-1", "wrong", id="wrong-password"),
        pytest.param("client-1", "", id="empty-password"),
        pytest.param("client-1", None, id="no-password"),
        pytest.param("nobody", PASSWORD, id="unknown-login"),
        pytest.param("CLIENT-1", PASSWORD, id="login-is-case-sensitive"),
    ],
)
def test_wrong_credentials_are_refused(sender_id, password):
    make_system("client-1", PASSWORD)
    assert authenticate_sender(sender_id, password) is None


def test_unknown_login_still_runs_a_password_hash(monkeypatch):
    # given no such login / when it tries to log in / then a hash is still computed (no timing oracle)
    calls = []
    real = services._check_hash
    monkeypatch.setattr(services, "_check_hash", lambda raw, encoded: calls.append(raw) or real(raw, encoded))
    assert authenticate_sender("nobody", "guess") is None
    assert calls == ["guess"]


def test_repeat_check_is_served_from_the_cache(monkeypatch):
    make_system("client-1", PASSWORD)
    assert authenticate_sender("client-1", PASSWORD) is not None
    monkeypatch.setattr(
        "egsu.registry.models.systems.check_password",
        lambda *a: pytest.fail("hash recomputed on a cached check"),
    )
    assert authenticate_sender("client-1", PASSWORD) is not None


def test_a_wrong_password_is_never_cached():
    make_system("client-1", PASSWORD)
    assert authenticate_sender("client-1", "wrong") is None
    assert authenticate_sender("client-1", "wrong") is None
    assert len(services._verified) == 0


def test_changed_password_is_refused_immediately():
    # given a cached successful login
    system = make_system("client-1", PASSWORD)
    assert authenticate_sender("client-1", PASSWORD) is not None
    # when the operator changes the password
    system.set_password("new-Password-456")
    system.save()
    # then the old one no longer works and the new one does
    assert authenticate_sender("client-1", PASSWORD) is None
    assert authenticate_sender("client-1", "new-Password-456") == system


def test_deactivated_system_is_refused_immediately():
    system = make_system("client-1", PASSWORD)
    assert authenticate_sender("client-1", PASSWORD) is not None
    system.active = False
    system.save()
    assert authenticate_sender("client-1", PASSWORD) is None


def test_system_of_a_deactivated_subject_is_refused():
    system = make_system("client-1", PASSWORD)
    system.subject.active = False
    system.subject.save()
    assert authenticate_sender("client-1", PASSWORD) is None


def test_cache_never_holds_the_clear_password():
    make_system("client-1", PASSWORD)
    authenticate_sender("client-1", PASSWORD)
    assert all(PASSWORD not in part for key in services._verified for part in key)


def test_cached_check_costs_one_query():
    make_system("client-1", PASSWORD)
    authenticate_sender("client-1", PASSWORD)
    with CaptureQueriesContext(connection) as queries:
        assert authenticate_sender("client-1", PASSWORD) is not None
    assert len(queries.captured_queries) == 1


@pytest.mark.parametrize(
    ("granted", "asked", "allowed"),
    [
        pytest.param(("ISUN_Service2",), "ISUN_Service2", True, id="granted"),
        pytest.param(("ISUN_Service2",), "ISUN_Service", False, id="other-key"),
        pytest.param((), "ISUN_Service2", False, id="none-granted"),
    ],
)
def test_system_may_call_only_granted_services(granted, asked, allowed):
    system = make_system(services=granted)
    assert system_may_call(system, asked) is allowed


@pytest.mark.parametrize(
    ("granted", "active", "asked", "allowed"),
    [
        pytest.param(("ISUN_Service2",), True, "ISUN_Service2", True, id="granted"),
        pytest.param(("ISUN_Service2",), True, "ISUN_Service", False, id="other-key"),
        pytest.param(("ISUN_Service2",), False, "ISUN_Service2", False, id="deactivated"),
        pytest.param((), True, "ISUN_Service2", False, id="none-granted"),
    ],
)
def test_the_right_read_with_the_system_answers_without_a_query_of_its_own(granted, active, asked, allowed):
    """SCE003 (the gateway's error codes, §15.2): the right to the service is read with the sender's row."""
    make_system("client-1", PASSWORD, services=granted)
    Service.objects.filter(service_id="ISUN_Service2").update(active=active)
    with CaptureQueriesContext(connection) as queries:
        system = authenticate_sender("client-1", PASSWORD, service_id=asked)
        assert system_may_call(system, asked) is allowed
    assert len(queries.captured_queries) == 1
    # a right read for another service is not taken for this one
    assert system_may_call(system, "ISUN_Service") is ("ISUN_Service" in granted and active)


def test_system_may_not_call_a_deactivated_service():
    system = make_system(services=("ISUN_Service2",))
    Service.objects.filter(service_id="ISUN_Service2").update(active=False)
    assert system_may_call(system, "ISUN_Service2") is False
    assert service_exists("ISUN_Service2") is False


@pytest.mark.parametrize(
    ("service_id", "exists"),
    [
        pytest.param("ISUN_Service2", True, id="main-key"),
        pytest.param("ISUN_Service", True, id="a10-alternative-key"),
        pytest.param("ISUN_Service 2", False, id="with-space"),
        pytest.param("GBDFL", False, id="other"),
    ],
)
def test_service_exists(service_id, exists):
    assert service_exists(service_id) is exists


def test_dictionaries_match_the_tables_and_reload_idempotently():
    # given the data migration already loaded them / when loaded again / then nothing new, contents exact
    assert load_dictionaries() == {"device_types": 0, "operation_types": 0, "services": 0}
    assert {t.id: (t.name_en, t.name_kk) for t in DeviceType.objects.all()} == DEVICE_TYPES
    assert {
        op.id: (op.name_en, op.name_kk, op.kind_set) for op in OperationType.objects.all()
    } == OPERATION_TYPES
    assert sorted(Service.objects.values_list("service_id", flat=True)) == ["ISUN_Service", "ISUN_Service2"]


def test_load_dictionaries_restores_a_tampered_entry_but_keeps_operator_service_names():
    OperationType.objects.filter(id=7).update(name_en="Tampered", kinds="1.1")
    Service.objects.filter(service_id="ISUN_Service2").update(name="Operator's name")
    load_dictionaries()
    assert OperationType.objects.get(id=7).kind_set == {"1.2"}
    assert OperationType.objects.get(id=7).name_en == "Storage"
    assert Service.objects.get(service_id="ISUN_Service2").name == "Operator's name"
