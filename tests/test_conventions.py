"""Meta-tests that keep the project's conventions honest (style.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.apps import apps
from django.contrib import admin

DOMAIN_MODULES = [
    "egsu.clock",
    "egsu.shep.envelope",
    "egsu.shep.contract",
    "egsu.isun.rules",
    "egsu.isun.receipt",
    "egsu.readings.store",
    "egsu.pki.algorithms",
    "egsu.registry.bin",
    "egsu.jobs.periods",
    "egsu.calendar_kz",
    "egsu.analytics.forecast",
    "egsu.vee.rules",
    "egsu.vee.engine",
    "egsu.vee.estimation",
    "egsu.vee.catalogue",
    "egsu.vee.settings",
    "egsu.balances.core",
]


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_the_domain_core_does_not_import_django(module):
    code = f"import sys, {module}; sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{module} pulls in Django: {result.stderr}"


def test_every_model_of_ours_has_an_admin():
    ours = [m for m in apps.get_models() if m.__module__.startswith("egsu.")]
    missing = [m.__name__ for m in ours if m not in admin.site._registry]
    assert ours and missing == []
