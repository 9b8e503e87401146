#!/usr/bin/env python
"""Django's management entry point; operators use the `egsu` command instead."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egsu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
