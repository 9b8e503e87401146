"""The cabinet test world, shared with the export tests, and the real queue's workers (tests/jobs)."""

from tests.cabinet.conftest import client_for, world  # noqa: F401
from tests.jobs.conftest import effect_tables, real_queue, workers  # noqa: F401
