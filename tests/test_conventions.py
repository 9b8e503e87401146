"""Meta-tests that keep the project's conventions honest (style.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.apps import apps
from django.contrib import admin

ROOT = Path(__file__).resolve().parents[1]


def test_the_domain_core_does_not_import_django():
    """The import-linter contract in pyproject.toml names the Django-free modules (design.md)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_every_model_of_ours_has_an_admin():
    ours = [m for m in apps.get_models() if m.__module__.startswith("egsu.")]
    missing = [m.__name__ for m in ours if m not in admin.site._registry]
    assert ours and missing == []


def test_records_only_the_system_writes_are_not_editable_in_the_admin():
    """Journals, rollups, alarms, forecasts and fixed dictionaries change through their services only."""
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    from egsu.alarms.models import Alarm, AlarmEntry
    from egsu.jobs.models import Job
    from egsu.monitoring.models import Arrival
    from egsu.registry.models import DeviceType

    request = RequestFactory().get("/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)

    def rights(model):
        found = admin.site._registry[model]
        return (found.has_add_permission(request), found.has_change_permission(request),
                found.has_delete_permission(request))  # fmt: skip

    assert {rights(m) for m in (AlarmEntry, Arrival, DeviceType)} == {(False, False, False)}
    assert {rights(m) for m in (Alarm, Job)} == {(False, False, True)}  # an administrator may remove one
