"""`egsu ami` commands (the typer app the lead mounts as `egsu ami`)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from egsu.ami import services
from egsu.ami.models import HeadEndSystem, Meter
from egsu.cli.ami import app
from egsu_core.clock import astana_date, utcnow


@pytest.mark.django_db
def test_add_head_end_prints_a_working_token(world):
    result = CliRunner().invoke(app, ["add-head-end", "hes-c", "--subject", world.subject.bin])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert services.authenticate(token) == HeadEndSystem.objects.get(name="hes-c")


@pytest.mark.django_db
def test_verification_due_lists_soon_expiring_meters(world):
    today = astana_date(utcnow())
    Meter.objects.filter(pk=world.meters[0].pk).update(verification_due=today + timedelta(days=3))
    Meter.objects.filter(pk=world.meters[1].pk).update(verification_due=date(2031, 1, 1))
    result = CliRunner().invoke(app, ["verification-due", "--days", "10"])
    assert result.exit_code == 0, result.output
    assert world.meters[0].serial_number in result.output
    assert world.meters[1].serial_number not in result.output
