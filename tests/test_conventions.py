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
