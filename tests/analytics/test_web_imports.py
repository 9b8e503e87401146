"""The web workers only show forecasts: loading every page's code must not load the model libraries
(lightgbm, mlforecast, statsforecast: about 90 MB resident per worker, measured 318 → 199 MB)."""

import os
import subprocess
import sys

PROBE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egsu.settings")
import django
django.setup()
import egsu.urls  # every page, API and view module
from django.core.handlers.wsgi import WSGIHandler
WSGIHandler()
print(" ".join(sorted(m for m in ("lightgbm", "mlforecast", "statsforecast") if m in sys.modules)))
"""


def test_loading_the_web_application_does_not_load_the_forecasting_libraries(tmp_path):
    env = {"EGSU_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    env.update({k: v for k, v in os.environ.items() if k.startswith(("PYTHON", "EGSU_DATABASE"))})
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1:] in ([], [""]), done.stdout
