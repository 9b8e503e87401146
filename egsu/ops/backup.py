"""Backups that restore (DIG-13, DIG-27): one dated archive with a SHA-256 manifest, and its restore.

An archive `egsu-backup-YYYYMMDDTHHMMSSZ.tar.gz` holds:

- `database/egsu.sqlite3` (SQLite's online backup API: a consistent copy while the System runs) or
  `database/egsu.pgdump` (`pg_dump --format=custom`, from a snapshot exported by the same transaction
  that counted the tables, so counts and dump agree);
- `clickhouse/readings-YYYYMM.jsonl.gz` when readings live in ClickHouse: the rows table, one file per
  monthly partition, read through the store's own connection (ClickHouse 18.16, Debian's, has no
  BACKUP statement, and the native protocol is the one connection the System has configured). The
  daily rollup is not copied: on restore its materialized view rebuilds it from the rows;
- `var/…`: the files of the var directory (exports, reports, documents of information requests, open
  data, the PKI of the stand, the secret key) — not the database files, static assets, metrics or
  backups themselves;
- `manifest.json`: what is inside, with each member's SHA-256 and size, and the row count of every
  table (and of every ClickHouse partition, with its sum of values) to check the restore against.

`restore(archive)` verifies every checksum first, refuses a target that is not empty (database,
ClickHouse table or var directory) unless forced, then restores and checks the row counts.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, connections

from egsu_core.clock import utcnow

FORMAT = "egsu-backup/1"
Progress = Callable[[int, int, str], None]  # (done, total, note)
_CHUNK = 1 << 20
CLICKHOUSE_BATCH = 50_000
# var/ entries that are not data: rebuilt, transient, or the backups themselves.
VAR_SKIP = frozenset({"static", "metrics", "backups", "test", "demo-bench"})
VAR_SKIP_PREFIXES = ("clickhouse-", "egsu.sqlite3", "test-egsu-", ".")


class BackupError(RuntimeError):
    """The backup or restore cannot be done as asked; nothing was changed."""


def _noop(done: int, total: int, note: str) -> None:
    pass


# ---------------------------------------------------------------- what a backup holds


@dataclass
class Manifest:
    created_at: str
    database_engine: str  # sqlite | postgresql
    tables: dict[str, int]  # table → rows
    clickhouse: dict | None = None  # {"database":…, "partitions": {"202506": {"rows": n, "sum": "…"}}}
    files: dict[str, dict] = field(default_factory=dict)  # member → {"sha256":…, "size":…}
    version: str = ""
    format: str = FORMAT

    def as_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        raw = json.loads(data)
        if raw.get("format") != FORMAT:
            raise BackupError(f"not an EGSU backup of format {FORMAT} (found {raw.get('format')!r})")
        return cls(**raw)


def _engine() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def var_files(var_dir: Path, skip: set[Path] = frozenset()) -> Iterator[Path]:
    """The data files of the var directory (see VAR_SKIP), sorted."""
    if not var_dir.exists():
        return
    for entry in sorted(var_dir.iterdir()):
        if entry.name in VAR_SKIP or entry.name.startswith(VAR_SKIP_PREFIXES) or entry.resolve() in skip:
            continue
        if entry.is_file():
            yield entry
        elif entry.is_dir():
            for path in sorted(entry.rglob("*")):
                if path.is_file() and not path.name.endswith((".lock", ".tmp")):
                    yield path


# ---------------------------------------------------------------- database


def _sqlite_snapshot(target: Path) -> dict[str, int]:
    """SQLite's online backup API into `target`; the row count of every table of the copy."""
    source = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=4096)
    finally:
        source.close()
    try:
        return _sqlite_counts(copy)
    finally:
        copy.close()


def _sqlite_counts(db: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
    ]
    # SQL built from our own table and column names; values travel as parameters
    return {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in sorted(names)}  # nosec B608


def _pg_params() -> tuple[list[str], dict[str, str]]:
    from egsu.conf import postgres_url

    db = settings.DATABASES["default"]
    # a URL carries every host and libpq parameter (target_session_attrs: the primary, after a failover)
    args = ["--dbname", postgres_url(db, password=False), "--username", db["USER"] or "postgres"]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or "", "PGCONNECT_TIMEOUT": "10"}
    return args, env


def _pg_connect():
    import psycopg

    from egsu.conf import postgres_url

    return psycopg.connect(postgres_url(settings.DATABASES["default"]), autocommit=False)


def _pg_tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def _pg_dump(target: Path) -> dict[str, int]:
    """pg_dump from a snapshot exported by the transaction that counts the tables."""
    with _pg_connect() as conn, conn.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = {}
        for table in _pg_tables(cursor):
            # SQL built from our own table and column names; values travel as parameters
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # nosec B608
            counts[table] = cursor.fetchone()[0]
        args, env = _pg_params()
        run = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
             "--file", str(target), *args],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        conn.rollback()
    if run.returncode != 0:
        raise BackupError(f"pg_dump failed: {run.stderr.strip()[:500]}")
    return counts


def database_counts() -> dict[str, int]:
    """Rows of every table of the configured database (after a restore: to compare with the manifest)."""
    if _engine() == "postgresql":
        with _pg_connect() as conn, conn.cursor() as cursor:
            return {
                # SQL built from our own table and column names; values travel as parameters
                t: cursor.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # nosec B608
                for t in _pg_tables(cursor)  # nosec B608
            }
    db = sqlite3.connect(settings.DATABASES["default"]["NAME"])
    try:
        return _sqlite_counts(db)
    finally:
        db.close()


def table_checksums() -> dict[str, tuple[int, str]]:
    """Rows and a SHA-256 of every table's rows in a stable order (the drill compares two databases)."""
    result = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            quoted = connection.ops.quote_name(table)
            # SQL built from our own table and column names; values travel as parameters
            cursor.execute(f"SELECT * FROM {quoted} WHERE 1 = 0")  # nosec B608
            order = ", ".join(str(n) for n in range(1, len(cursor.description) + 1))
            # SQL built from our own table and column names; values travel as parameters
            cursor.execute(f"SELECT * FROM {quoted} ORDER BY {order}")  # nosec B608
            digest, rows = hashlib.sha256(), 0
            for row in cursor.fetchall():
                digest.update(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode())
                rows += 1
            result[table] = (rows, digest.hexdigest())
    return result


def database_is_empty() -> bool:
    """The database holds no table at all (a new database; one already migrated is not empty)."""
    if _engine() == "postgresql":
        with _pg_connect() as conn, conn.cursor() as cursor:
            return not _pg_tables(cursor)
    path = Path(settings.DATABASES["default"]["NAME"])
    if not path.exists() or path.stat().st_size == 0:
        return True
    db = sqlite3.connect(path)
    try:
        return not _sqlite_counts(db)
    finally:
        db.close()


# ---------------------------------------------------------------- ClickHouse


def _clickhouse_store():
    if settings.READINGS_BACKEND != "clickhouse":
        return None
    from egsu.readings.services import get_store

    return get_store()


def _epoch(value) -> int:
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def _clickhouse_dump(store, directory: Path, progress: Progress) -> dict:
    """One gzip'd JSON-lines file per monthly partition of the rows table (through the Distributed
    table on a cluster, so every shard's rows are in it)."""
    from egsu.readings.clickhouse_schema import COLUMN_NAMES

    table = store.table
    months = [r[0] for r in store.connection.query(f"SELECT DISTINCT toYYYYMM(period_start) FROM {table}")]
    partitions = {}
    columns = ", ".join(COLUMN_NAMES)
    for n, month in enumerate(sorted(months)):
        progress(n, len(months), f"ClickHouse partition {month}")
        rows, total = 0, Decimal(0)
        path = directory / f"readings-{month}.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=3) as out:
            for row in store.connection.stream(
                f"SELECT {columns} FROM {table} WHERE toYYYYMM(period_start) = {int(month)}"
            ):
                (obj, dev, qty, dur, start, rev, value, unit, quality, commercial, source, recorded) = row
                out.write(json.dumps([
                    obj, dev, qty, dur, _epoch(start), int(rev), str(value), unit, quality, int(commercial),
                    source, _epoch(recorded),
                ]) + "\n")  # fmt: skip
                rows += 1
                total += Decimal(value)
        partitions[str(month)] = {"rows": rows, "sum": _sum_text(total)}
    return {"database": store.database, "table": store.layout.table, "partitions": partitions}


def clickhouse_partitions(store) -> dict[str, dict]:
    """Rows and sum of values per month of the rows table (to compare with a manifest)."""
    result = store.connection.query(
        f"SELECT toYYYYMM(period_start), count(), sum(value) FROM {store.table} GROUP BY toYYYYMM(period_start)"
    )
    return {str(m): {"rows": int(n), "sum": _sum_text(Decimal(s))} for m, n, s in result}


def _sum_text(total: Decimal) -> str:
    return format(total.normalize(), "f")


def _clickhouse_load(store, files: list[Path], progress: Progress) -> None:
    from egsu.readings.clickhouse_schema import COLUMN_NAMES

    for n, path in enumerate(files):
        progress(n, len(files), f"ClickHouse {path.name}")
        batch: list[tuple] = []
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                r = json.loads(line)
                r[6] = Decimal(r[6])
                batch.append(tuple(r))
                if len(batch) >= CLICKHOUSE_BATCH:
                    store.connection.insert(store.table, COLUMN_NAMES, batch)
                    batch = []
        if batch:
            store.connection.insert(store.table, COLUMN_NAMES, batch)


def _normal_sum(value: str) -> Decimal:
    return Decimal(value).normalize()


# ---------------------------------------------------------------- backup


def _archive_name(now: datetime) -> str:
    return f"egsu-backup-{now:%Y%m%dT%H%M%SZ}.tar.gz"


def backup(
    target_dir: Path, *, progress: Progress = _noop, now: datetime | None = None, clickhouse: bool = True
) -> Path:
    """Write one archive into `target_dir`; its path. A `.sha256` file beside it holds the archive's digest."""
    from egsu import __version__

    now = now or utcnow()
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    final = target_dir / _archive_name(now)
    if final.exists():
        raise BackupError(f"{final} exists already")
    var_dir = settings.CONFIG.var_dir
    with tempfile.TemporaryDirectory(prefix=".staging-", dir=target_dir) as staging_name:
        staging = Path(staging_name)
        (staging / "database").mkdir()
        progress(0, 4, "database")
        engine = _engine()
        if engine == "postgresql":
            tables = _pg_dump(staging / "database" / "egsu.pgdump")
        else:
            tables = _sqlite_snapshot(staging / "database" / "egsu.sqlite3")
        manifest = Manifest(
            created_at=now.isoformat(), database_engine=engine, tables=tables, version=__version__
        )
        store = _clickhouse_store() if clickhouse else None
        if store is not None:
            (staging / "clickhouse").mkdir()
            progress(1, 4, "ClickHouse")
            manifest.clickhouse = _clickhouse_dump(store, staging / "clickhouse", _noop)
        progress(2, 4, "var files")
        members: list[tuple[Path, str]] = [
            (path, str(path.relative_to(staging))) for path in sorted(staging.rglob("*")) if path.is_file()
        ]
        members += [
            (path, "var/" + str(path.relative_to(var_dir)))
            for path in var_files(var_dir, {target_dir.resolve()})
        ]
        total = sum(path.stat().st_size for path, _ in members) or 1
        done = 0
        partial = target_dir / (final.name + ".partial")
        with tarfile.open(partial, "w:gz", compresslevel=3) as tar:
            for path, name in members:
                manifest.files[name] = {"sha256": _sha256(path), "size": path.stat().st_size}
                tar.add(path, arcname=name, recursive=False)
                done += path.stat().st_size
                progress(done, total, name)
            data = manifest.as_json()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
        progress(total, total, "done")
        os.chmod(partial, 0o600)
        os.replace(partial, final)
    (target_dir / (final.name + ".sha256")).write_text(f"{_sha256(final)}  {final.name}\n")
    return final


# ---------------------------------------------------------------- restore


@dataclass
class Restored:
    archive: Path
    tables: int
    rows: int
    clickhouse_rows: int
    files: int
    seconds: float


def read_manifest(archive: Path) -> Manifest:
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile("manifest.json")
        if member is None:
            raise BackupError(f"{archive} holds no manifest.json")
        return Manifest.from_json(member.read())


def verify(archive: Path, staging: Path, progress: Progress = _noop) -> Manifest:
    """Unpack into `staging` and check the archive's digest file (when present) and every member's SHA-256."""
    digest_file = archive.with_name(archive.name + ".sha256")
    if digest_file.exists():
        expected = digest_file.read_text().split()[0]
        if _sha256(archive) != expected:
            raise BackupError(f"{archive.name}: the archive's SHA-256 differs from {digest_file.name}")
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(staging, filter="data")
    manifest = Manifest.from_json((staging / "manifest.json").read_bytes())
    for n, (name, expected) in enumerate(sorted(manifest.files.items())):
        progress(n, len(manifest.files), f"checking {name}")
        path = staging / name
        if not path.is_file() or _sha256(path) != expected["sha256"]:
            raise BackupError(f"{name}: missing or its SHA-256 differs from the manifest")
    return manifest


def _check_targets(manifest: Manifest, force: bool) -> None:
    if manifest.database_engine != _engine():
        raise BackupError(
            f"the archive holds a {manifest.database_engine} database and this System is configured for "
            f"{_engine()} (EGSU_DATABASE_URL): restore onto the same engine"
        )
    problems = []
    if not database_is_empty():
        problems.append(f"the database {settings.DATABASES['default']['NAME']} is not empty")
    store = _clickhouse_store()
    if manifest.clickhouse is not None:
        if store is None:
            raise BackupError(
                "the archive holds ClickHouse readings: set EGSU_READINGS_BACKEND=clickhouse first"
            )
        if store.connection.query(f"SELECT count() FROM {store.table}")[0][0]:
            problems.append(f"the ClickHouse table {store.table} is not empty")
    var_dir = settings.CONFIG.var_dir
    present = [p for p in var_files(var_dir) if p.name != "secret_key"]
    if present:
        problems.append(f"the var directory {var_dir} holds {len(present)} file(s), e.g. {present[0]}")
    if problems and not force:
        raise BackupError("; ".join(problems) + " — restore onto an empty target, or use --force")


def _restore_database(manifest: Manifest, staging: Path, force: bool) -> None:
    if manifest.database_engine == "postgresql":
        args, env = _pg_params()
        extra = ["--clean", "--if-exists"] if force else []
        run = subprocess.run(
            ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *extra, *args,
             str(staging / "database" / "egsu.pgdump")],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if run.returncode != 0:
            raise BackupError(f"pg_restore failed: {run.stderr.strip()[:500]}")
        return
    target = Path(settings.DATABASES["default"]["NAME"])
    connections.close_all()
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(staging / "database" / "egsu.sqlite3", partial)
    os.replace(partial, target)


def restore(archive: Path, *, force: bool = False, progress: Progress = _noop, source: str = "") -> Restored:
    """Restore an archive onto this (empty) System: database, ClickHouse readings, var files; audited."""
    from egsu.access.audit import Event, audit

    started = time.monotonic()
    archive = Path(archive).resolve()
    var_dir = settings.CONFIG.var_dir
    var_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restoring-", dir=var_dir) as staging_name:
        staging = Path(staging_name)
        manifest = verify(archive, staging, progress)
        _check_targets(manifest, force)
        progress(0, 3, "database")
        _restore_database(manifest, staging, force)
        clickhouse_rows = 0
        if manifest.clickhouse is not None:
            progress(1, 3, "ClickHouse")
            store = _clickhouse_store()
            if force:
                store.connection.command(f"TRUNCATE TABLE {store.database}.{store.layout.storage_table}")
                for rollup, _fill in store.layout.rollups(store.database):  # refilled by their views
                    store.connection.command(f"TRUNCATE TABLE {rollup}")
            _clickhouse_load(store, sorted((staging / "clickhouse").glob("readings-*.jsonl.gz")), progress)
            clickhouse_rows = sum(p["rows"] for p in manifest.clickhouse["partitions"].values())
        progress(2, 3, "var files")
        files = 0
        for name in manifest.files:
            if name.startswith("var/"):
                target = var_dir / name[len("var/") :]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(staging / name, target)
                files += 1
    _check_counts(manifest)
    progress(3, 3, "done")
    result = Restored(
        archive=archive, tables=len(manifest.tables), rows=sum(manifest.tables.values()),
        clickhouse_rows=clickhouse_rows, files=files, seconds=time.monotonic() - started,
    )  # fmt: skip
    audit(
        Event.BACKUP_RESTORED, object_type="ops.backup", object_id=archive.name, source=source,
        summary=f"{archive.name} restored: {result.tables} tables, {result.rows} rows, "
        f"{clickhouse_rows} ClickHouse rows, {files} files in {result.seconds:.1f} s",
        after={"archive": archive.name, "created_at": manifest.created_at, "rows": result.rows, "files": files},
    )  # fmt: skip
    return result


def _check_counts(manifest: Manifest) -> None:
    """Every table holds the rows the manifest counted (the audit row this restore adds comes after)."""
    found = database_counts()
    wrong = {t: (n, found.get(t)) for t, n in manifest.tables.items() if found.get(t) != n}
    if wrong:
        raise BackupError(f"restored tables differ from the manifest (expected, found): {wrong}")
    if manifest.clickhouse is not None:
        store = _clickhouse_store()
        now = clickhouse_partitions(store)
        for month, expected in manifest.clickhouse["partitions"].items():
            got = now.get(month)
            if (
                got is None
                or got["rows"] != expected["rows"]
                or _normal_sum(got["sum"]) != _normal_sum(expected["sum"])
            ):
                raise BackupError(f"ClickHouse partition {month}: expected {expected}, found {got}")


# ---------------------------------------------------------------- scheduled backups and their retention


def default_dir() -> Path:
    return settings.CONFIG.backup_dir or settings.CONFIG.var_dir / "backups"


def prune(directory: Path, keep: int) -> list[str]:
    """Keep the `keep` newest archives in `directory`; remove the older ones (and their digest files)."""
    if keep < 1:
        raise ValueError("at least one backup must be kept")
    archives = sorted(directory.glob("egsu-backup-*.tar.gz"), reverse=True)
    removed = []
    for old in archives[keep:]:
        old.unlink()
        old.with_name(old.name + ".sha256").unlink(missing_ok=True)
        removed.append(old.name)
    return removed


def scheduled_backup(*, source: str, progress: Progress = _noop) -> dict:
    """The periodic job's work: a backup into EGSU_BACKUP_DIR, the oldest beyond EGSU_BACKUP_KEEP removed."""
    from egsu.access.audit import Event, audit

    directory = default_dir()
    started = time.monotonic()
    path = backup(directory, progress=progress, clickhouse=settings.CONFIG.backup_clickhouse)
    size = path.stat().st_size
    audit(
        Event.BACKUP_MADE, object_type="ops.backup", object_id=path.name, source=source,
        summary=f"{path.name} written ({size} bytes) in {time.monotonic() - started:.1f} s",
        after={"archive": path.name, "bytes": size},
    )  # fmt: skip
    removed = prune(directory, settings.CONFIG.backup_keep)
    if removed:
        audit(
            Event.BACKUPS_PRUNED, object_type="ops.backup", source=source,
            summary=f"{len(removed)} backup(s) beyond the newest {settings.CONFIG.backup_keep} removed",
            after={"removed": removed},
        )  # fmt: skip
    return {"archive": path.name, "bytes": size, "removed": removed}
