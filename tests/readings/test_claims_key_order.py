"""The claims' primary key leads with the period (ADR 0013, "Key order"), and tables of before get it;
batches of new keys only are claimed by a plain insert.

A batch claims the keys of few periods; with the period first they lie together in the index, so a
claim touches a few pages instead of one per series. A claims table made before that order is
rebuilt by the first connection (under the schema lock), its claims kept: answers do not change.
Runs on the pass's database (a SQLite file, or PostgreSQL); no ClickHouse needed.
"""

from __future__ import annotations

import uuid

import pytest

from tests.readings import test_exactly_once

pytestmark = pytest.mark.django_db(transaction=True)

_OLD_DDL = (
    "CREATE TABLE {claims} (object_id VARCHAR(64) NOT NULL, device_id VARCHAR(64) NOT NULL,"
    " quantity VARCHAR(32) NOT NULL, duration VARCHAR(8) NOT NULL, period_start BIGINT NOT NULL,"
    " revision INTEGER NOT NULL, value VARCHAR(40) NOT NULL, unit VARCHAR(16) NOT NULL,"
    " quality VARCHAR(32) NOT NULL, PRIMARY KEY (object_id, device_id, quantity, duration, period_start))"
)
START = 1_750_000_000 // 900 * 900


def _entry(device: str, start: int, value: str) -> tuple:
    return ("OBJ", device, "A+", "PT15M", start, value, "kWh", "good")


@pytest.fixture
def claims(tmp_path):
    made = test_exactly_once._claims(
        test_exactly_once._claims_url(tmp_path), f"keyorder_{uuid.uuid4().hex[:8]}"
    )
    yield made
    cursor = made.connection.cursor()
    for table in (made.claims_table, made.intents_table, made.meta_table):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    made.connection.commit()
    made.close()


def _raw(claims):
    """A connection of the claims' dialect that creates nothing (the old table is made with it)."""
    return claims._connect()


def test_a_new_claims_table_leads_with_the_period(claims):
    cursor = claims.connection.cursor()
    assert claims._key_leads_with(cursor) == "period_start"
    assert claims._stored_in_its_key(cursor)


def test_a_table_of_before_the_key_order_is_rebuilt_with_its_claims(claims):
    raw = _raw(claims)
    cursor = raw.cursor()
    cursor.execute(_OLD_DDL.format(claims=claims.claims_table))
    stored = [
        ("OBJ", f"M{n}", "A+", "PT15M", START + 900 * (n % 3), 2, f"{n}.5", "kWh", "good") for n in range(50)
    ]
    p = claims.placeholder
    cursor.executemany(f"INSERT INTO {claims.claims_table} VALUES ({', '.join([p] * 9)})", stored)
    raw.commit()
    assert claims._key_leads_with(raw.cursor()) == "object_id"
    raw.close()

    cursor = claims.connection.cursor()  # the first connection rebuilds the key
    assert claims._key_leads_with(cursor) == "period_start"
    cursor.execute(f"SELECT * FROM {claims.claims_table}")
    assert sorted(tuple(row) for row in cursor.fetchall()) == sorted(stored)
    claims.connection.commit()

    # The kept claims answer as before: a repeat is a DUPLICATE, a change the next revision, a new key NEW.
    entries = [_entry("M1", START + 900, "1.5"), _entry("M2", START + 1800, "9"), _entry("M1", START, "7")]
    revisions, _intent = claims.claim(entries, lambda revisions: None)
    assert revisions == [None, 3, 1]


def test_on_sqlite_a_claims_table_of_rows_beside_their_key_is_rebuilt_in_its_key(claims):
    """SQLite keeps claims in their primary key's B-tree (WITHOUT ROWID): one B-tree written per claim.
    A table of before, with the period-first key but its rows in a rowid table beside it, is rebuilt
    by the first connection, its claims kept."""
    if claims.placeholder != "?":
        pytest.skip("PostgreSQL keeps every table's rows in a heap beside its key")
    raw = _raw(claims)
    cursor = raw.cursor()
    cursor.execute(_OLD_DDL.replace("(object_id, device_id, quantity, duration, period_start)",
                                    "(period_start, object_id, device_id, quantity, duration)")
                   .format(claims=claims.claims_table))  # fmt: skip
    stored = [("OBJ", f"M{n}", "A+", "PT15M", START, 1, f"{n}", "kWh", "good") for n in range(20)]
    cursor.executemany(f"INSERT INTO {claims.claims_table} VALUES ({', '.join(['?'] * 9)})", stored)
    raw.commit()
    assert not claims._stored_in_its_key(raw.cursor())
    raw.close()

    cursor = claims.connection.cursor()  # the first connection rebuilds the table
    assert claims._stored_in_its_key(cursor)
    assert claims._key_leads_with(cursor) == "period_start"
    cursor.execute(f"SELECT * FROM {claims.claims_table}")
    assert sorted(tuple(row) for row in cursor.fetchall()) == sorted(stored)
    claims.connection.commit()
    revisions, _intent = claims.claim([_entry("M3", START, "3"), _entry("M4", START, "5")], lambda r: None)
    assert revisions == [None, 2]


def test_pruning_walks_the_period_first_key(claims):
    day = 86_400
    old = START - 40 * day
    entries = [_entry(f"M{n}", old + 900 * q, "1") for n in range(7) for q in range(5)]
    entries += [_entry(f"M{n}", START, "1") for n in range(3)]
    claims.claim(entries, lambda revisions: None)
    pruned = claims.prune(old + 900 * 3, batch=4, now=START + day)
    assert pruned.deleted == 7 * 3  # three periods of seven series, four claims per transaction
    cursor = claims.connection.cursor()
    cursor.execute(f"SELECT count(*) FROM {claims.claims_table}")
    assert cursor.fetchone()[0] == len(entries) - 21
    claims.connection.commit()


def test_a_batch_of_new_keys_and_one_claimed_key_anywhere_get_their_true_answers(claims):
    """All new: revision 1 each (SQLite: a plain insert). One key claimed before, last in the batch, or a
    key twice in it: the insert is undone and the upsert answers, so nothing is claimed twice."""
    first = [_entry(f"M{n}", START, "1") for n in range(100)]
    assert claims.claim(first, lambda revisions: None)[0] == [1] * 100
    second = [_entry(f"M{n}", START + 900, "2") for n in range(100)] + [_entry("M5", START, "1")]
    assert claims.claim(second, lambda revisions: None)[0] == [1] * 100 + [None]
    third = [_entry("X", START, "1"), _entry("Y", START, "1"), _entry("X", START, "3")]
    assert claims.claim(third, lambda revisions: None)[0] == [1, 1, 2]
    cursor = claims.connection.cursor()
    cursor.execute(f"SELECT count(*), sum(revision) FROM {claims.claims_table}")
    assert tuple(cursor.fetchone()) == (202, 203)
    claims.connection.commit()


def test_on_sqlite_a_batch_of_new_keys_is_claimed_without_the_upsert(claims, monkeypatch):
    """SQLite's one writer lets a plain insert claim new keys; the upsert answers only a batch that meets
    a claimed key. PostgreSQL's concurrent writers always take the upsert."""
    if claims.placeholder != "?":
        pytest.skip("PostgreSQL claims every batch by the upsert (its writers run concurrently)")
    upserts = []
    real = claims._upsert
    monkeypatch.setattr(
        claims, "_upsert", lambda cursor, batch: upserts.append(len(batch)) or real(cursor, batch)
    )
    assert claims.claim([_entry(f"M{n}", START, "1") for n in range(50)], lambda r: None)[0] == [1] * 50
    assert upserts == []
    assert claims.claim([_entry("M1", START, "2"), _entry("N", START, "1")], lambda r: None)[0] == [2, 1]
    assert upserts == [2]
