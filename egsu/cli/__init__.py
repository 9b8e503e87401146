"""The `egsu` console command: everything an operator does from a shell.

Django is set up once here, before any sub-command module that touches models
is imported; sub-command groups live in their own modules (registry, journal…).
"""

from __future__ import annotations

import os
import sys


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egsu.settings")
    import django

    django.setup()


def main() -> None:
    """Entry point of the console script."""
    from egsu.conf import ConfigError

    try:
        _setup_django()
    except ConfigError as exc:
        sys.stderr.write(f"egsu: configuration error: {exc}\n")
        raise SystemExit(2) from exc
    from egsu.cli.app import app

    app()
