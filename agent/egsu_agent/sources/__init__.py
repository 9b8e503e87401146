"""Where samples come from: a drop folder, Modbus TCP, OPC UA, an SQL query.

Each source returns a Batch: the samples read and a hook to call once they are kept
durably (the folder source moves its files away only then, so a crash re-reads them).
Polled sources (Modbus, OPC UA) give the value now and the agent stamps it; export
sources (folder, SQL) carry their own timestamps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from egsu_agent.config import SourceConfig
from egsu_agent.samples import Sample


class SourceError(Exception):
    """A source could not be read this time (device off, link down); the agent logs it and goes on."""


@dataclass
class Batch:
    samples: list[Sample]
    files: list[tuple[str, str]] = field(default_factory=list)
    """(path, sha256) of exports read, recorded with the samples."""
    done: Callable[[], None] = lambda: None
    watermark: str | None = None
    """For SQL sources: the newest row time read, kept with the samples."""


class Source(Protocol):
    name: str

    def read(self, now: datetime, *, since: str | None, seen: Callable[[str, str], bool]) -> Batch: ...

    def close(self) -> None: ...


def build_source(config: SourceConfig) -> Source:
    """The reader for one configured source."""
    if config.type == "folder":
        from egsu_agent.sources.dropfolder import FolderSource

        return FolderSource(config)
    if config.type == "modbus":
        from egsu_agent.sources.modbus import ModbusSource

        return ModbusSource(config)
    if config.type == "opcua":
        from egsu_agent.sources.opcua import OpcUaSource

        return OpcUaSource(config)
    if config.type == "sql":
        from egsu_agent.sources.sql import SqlSource

        return SqlSource(config)
    raise ValueError(f"unknown source type {config.type!r}")
