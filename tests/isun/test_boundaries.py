"""The ISUN domain package stays plain Python (design.md: the domain core does not import Django)."""

from __future__ import annotations

import subprocess
import sys


def test_isun_imports_no_django():
    code = (
        "import sys\n"
        "import egsu_core.isun.rules, egsu_core.isun.receipt, egsu_core.isun.samples, egsu_core.isun.schema\n"
        "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')], 'django imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
