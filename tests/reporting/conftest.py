"""Region world (tests/reporting/regions.py), the cabinet's users, and the real queue's workers."""

from tests.cabinet.conftest import client_for, world  # noqa: F401
from tests.jobs.conftest import effect_tables, real_queue, workers  # noqa: F401
