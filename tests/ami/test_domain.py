"""The AMI domain modules are plain Python (design.md): no Django behind them."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module", ["egsu.ami.catalog", "egsu.ami.obis", "egsu.ami.events", "egsu.ami.gas", "egsu.ami.wire"]
)
def test_the_ami_domain_does_not_import_django(module):
    code = f"import sys, {module}; sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{module} pulls in Django: {result.stderr}"
