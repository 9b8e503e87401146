"""Purge: entries past three years go, younger ones never (INT-36)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from egsu.journal import services
from egsu.journal.models import Direction, JournalEntry
from tests.journal.factories import make_entry

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
RETENTION = timedelta(days=3 * 365 + 1)
CUTOFF = NOW - RETENTION
SECOND = timedelta(seconds=1)


def test_default_retention_is_three_years_and_a_day():
    assert services.purge_cutoff(now=NOW) == CUTOFF


@pytest.mark.parametrize(
    ("age_offset", "kept"),
    [
        pytest.param(-timedelta(days=400), False, id="long-past"),
        pytest.param(-SECOND, False, id="one-second-older-than-cutoff"),
        pytest.param(timedelta(0), True, id="exactly-at-cutoff"),
        pytest.param(SECOND, True, id="one-second-younger-than-cutoff"),
        pytest.param(timedelta(days=1000), True, id="recent"),
    ],
)
def test_purge_boundary(age_offset, kept):
    # given an entry at the cutoff shifted by the offset
    entry = make_entry(CUTOFF + age_offset)
    # when purging with the default retention
    deleted = services.purge(now=NOW)
    # then only entries strictly older than the cutoff go
    assert deleted == (0 if kept else 1)
    assert JournalEntry.objects.filter(pk=entry.pk).exists() is kept


@pytest.mark.parametrize(
    "older_than",
    [
        pytest.param(timedelta(days=1095), id="365x3-days-misses-a-leap-day"),
        pytest.param(timedelta(days=30), id="a-month"),
        pytest.param(timedelta(0), id="zero"),
        pytest.param(timedelta(days=-5), id="negative"),
    ],
)
def test_purge_refuses_a_retention_shorter_than_three_years(older_than):
    # given an entry that the asked retention would remove
    make_entry(NOW - timedelta(days=1095, seconds=1))
    with pytest.raises(ValueError, match="refusing to purge entries younger than 1096 days"):
        services.purge(older_than=older_than, now=NOW)
    assert JournalEntry.objects.count() == 1


def test_purge_refuses_a_short_default_from_settings(settings):
    settings.CONFIG = dataclasses.replace(settings.CONFIG, journal_retention_days=365)
    with pytest.raises(ValueError, match="refusing"):
        services.purge(now=NOW)


def test_longer_retention_is_allowed():
    make_entry(NOW - timedelta(days=1500))
    make_entry(NOW - timedelta(days=1200))
    assert services.purge(older_than=timedelta(days=1460), now=NOW) == 1
    assert JournalEntry.objects.count() == 1


def test_dry_run_counts_and_deletes_nothing():
    make_entry(CUTOFF - SECOND)
    make_entry(CUTOFF + SECOND)
    assert services.purge(now=NOW, dry_run=True) == 1
    assert JournalEntry.objects.count() == 2


def test_purge_works_in_batches_and_reports_progress():
    # given five expired entries and one young one
    for day in range(5):
        make_entry(CUTOFF - timedelta(days=day + 1))
    young = make_entry(CUTOFF + SECOND)
    seen: list[int] = []
    # when purged two at a time
    deleted = services.purge(now=NOW, batch_size=2, progress=seen.append)
    # then progress is reported after each batch
    assert deleted == 5
    assert seen == [2, 4, 5]
    assert list(JournalEntry.objects.values_list("pk", flat=True)) == [young.pk]


def test_an_answer_that_stays_loses_only_its_link_to_a_purged_request():
    request = make_entry(CUTOFF - SECOND)
    answer = make_entry(CUTOFF + SECOND, direction=Direction.OUT, related=request)
    assert services.purge(now=NOW) == 1
    answer.refresh_from_db()
    assert answer.related_id is None
