"""Samples from the company's own database: one query returning (tag, time, value[, fault]) rows.

The query names ``:since`` (the newest time already read, as Astana text "YYYY-MM-DD HH:MM:SS", or the start of the
schedule) and may name ``:until`` (now); e.g.::

    SELECT tag, measured_at, value FROM meter_log WHERE measured_at > :since AND measured_at <= :until

Supported URLs: ``sqlite:///path/to/file.db`` (standard sqlite3) and
``postgresql://user@host/db`` (psycopg 3; the ``:name`` placeholders are rewritten to
psycopg's). Times without an offset are Astana time (INT-37). The newest time read is
kept with the samples, so a restart never reads a row twice nor skips one.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime

from egsu.clock import to_astana
from egsu_agent.config import SourceConfig
from egsu_agent.samples import Sample
from egsu_agent.sources import Batch, SourceError
from egsu_agent.sources.timestamps import parse_fault, parse_time, parse_value

_NAMED = re.compile(r"(?<!:):(since|until)\b")


class SqlSource:
    def __init__(self, config: SourceConfig) -> None:
        self.name = config.name
        self.url = config.url
        self.query = config.query

    def _rows(self, since: str, until: str) -> list[tuple]:
        params = {"since": since, "until": until}
        if self.url.startswith("sqlite:///"):
            connection = sqlite3.connect(self.url[len("sqlite:///") :], timeout=10)
            try:
                return connection.execute(self.query, params).fetchall()
            finally:
                connection.close()
        import psycopg

        with psycopg.connect(self.url, connect_timeout=10) as connection:
            return connection.execute(_NAMED.sub(r"%(\1)s", self.query), params).fetchall()

    def read(self, now: datetime, *, since: str | None, seen=None) -> Batch:
        since = since or "1970-01-01 00:00:00"
        until = to_astana(now).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
        try:
            rows = self._rows(since, until)
        except Exception as exc:  # noqa: BLE001 - driver errors differ between sqlite3 and psycopg
            raise SourceError(f"SQL source {self.name}: {exc}") from exc
        samples = []
        newest = since
        for number, row in enumerate(rows, start=1):
            if len(row) < 3:
                raise SourceError(
                    f"SQL source {self.name}: row {number} has {len(row)} columns, expected tag, time, value"
                )
            try:
                at = parse_time(row[1])
                samples.append(
                    Sample(
                        at=at,
                        tag=str(row[0]),
                        value=parse_value(row[2]),
                        fault=parse_fault(row[3]) if len(row) > 3 else False,
                    )
                )
            except ValueError as exc:
                raise SourceError(f"SQL source {self.name}: row {number}: {exc}") from exc
            stamp = to_astana(at).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
            newest = max(newest, stamp)
        return Batch(samples=samples, watermark=newest)

    def close(self) -> None:
        pass
