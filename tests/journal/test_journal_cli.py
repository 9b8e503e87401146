"""`egsu journal search|show|purge` through Typer's test runner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from egsu.cli.journal import app
from egsu.journal import services
from egsu.journal.models import JournalEntry
from egsu_core.clock import utcnow
from tests.journal.conftest import SAMPLE
from tests.journal.factories import make_entry

pytestmark = pytest.mark.django_db
runner = CliRunner()


@pytest.fixture
def entry():
    entry, _ = services.record_incoming(
        message_id="m-1", sender_id="oilco", service_id="ISUN_Service2", raw=SAMPLE
    )
    services.update_incoming(
        entry, status_code="SCSS001", status_message="OK", records_total=9, records_accepted=9
    )
    return entry


def test_search_lists_entries_in_astana_time(entry):
    result = runner.invoke(app, ["search", "--sender", "oilco"])
    assert result.exit_code == 0, result.output
    assert "m-1" in result.output
    assert "9/9" in result.output
    assert "+05:00" in result.output  # Astana, after 1 March 2024
    assert "1 entry" in result.output


@pytest.mark.parametrize(
    ("args", "found"),
    [
        pytest.param(["--sender", "gasco"], False, id="other-sender"),
        pytest.param(["--message-id", "m-1"], True, id="message-id"),
        pytest.param(["--status", "SCE002"], False, id="status"),
        pytest.param(["--direction", "in"], True, id="direction-any-case"),
        pytest.param(["--since", "2000-01-01"], True, id="since-date"),
        pytest.param(["--until", "2000-01-01T10:00"], False, id="until-datetime"),
        pytest.param(["--limit", "1"], True, id="limit"),
    ],
)
def test_search_filters(entry, args, found):
    result = runner.invoke(app, ["search", *args])
    assert result.exit_code == 0, result.output
    assert ("m-1" in result.output) is found


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--direction", "SIDEWAYS"], "use IN or OUT", id="direction"),
        pytest.param(["--since", "yesterday"], "not an ISO date", id="since"),
    ],
)
def test_search_rejects_bad_options(args, message):
    result = runner.invoke(app, ["search", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_show_by_message_id_masks_the_password(entry):
    result = runner.invoke(app, ["show", "m-1", "--raw"])
    assert result.exit_code == 0, result.output
    assert "checksum verifies:" in result.output and "yes" in result.output
    assert "<password>***</password>" in result.output
    assert "s3cret" not in result.output


def test_show_by_id_unmasked(entry):
    result = runner.invoke(app, ["show", str(entry.pk), "--raw", "--unmasked"])
    assert result.exit_code == 0, result.output
    assert "<password>s3cret&lt;pw</password>" in result.output


def test_show_metadata_only_without_raw(entry):
    result = runner.invoke(app, ["show", "m-1"])
    assert result.exit_code == 0
    assert "<ns2:SendMessage" not in result.output
    assert "ISUN_Service2" in result.output


def test_show_unknown_and_ambiguous(entry):
    assert runner.invoke(app, ["show", "nope"]).exit_code == 1
    make_entry(utcnow(), message_id="m-1", sender_id="gasco")
    ambiguous = runner.invoke(app, ["show", "m-1"])
    assert ambiguous.exit_code == 2
    assert "names 2 entries" in ambiguous.output


def test_purge_refuses_less_than_three_years(entry):
    make_entry(utcnow() - timedelta(days=400))
    result = runner.invoke(app, ["purge", "--older-than-days", "365"])
    assert result.exit_code == 2
    assert "refused" in result.output
    assert JournalEntry.objects.count() == 2


def test_purge_dry_run_then_real(entry):
    make_entry(utcnow() - timedelta(days=1200))
    dry = runner.invoke(app, ["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 entry would be deleted" in dry.output
    assert JournalEntry.objects.count() == 2
    real = runner.invoke(app, ["purge", "--older-than-days", "1100"])
    assert real.exit_code == 0, real.output
    assert "deleted 1 entry" in real.output
    assert list(JournalEntry.objects.values_list("message_id", flat=True)) == ["m-1"]
