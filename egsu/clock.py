"""Moved to ``egsu_core.clock`` (decision 0019); this name stays for the migrations that import it.

The module object is the same (``sys.modules`` alias), so ``egsu.clock`` and ``egsu_core.clock`` can
never disagree, a test's monkeypatch included. New code imports ``egsu_core.clock``.
"""

import sys

from egsu_core import clock

sys.modules[__name__] = clock
