from tests.cabinet.conftest import client_for, world  # noqa: F401 - fixtures reused
from tests.schemes.conftest import _fresh_calendar  # noqa: F401 - fixture reused
