"""OPC UA node values read with the asyncua client; the agent stamps each value with the poll time.

The connection is kept open between polls and reopened after an error. A value whose
OPC UA status code is not Good is kept as a faulty sample (deviceStatus "no", FMT-05).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from egsu_agent.config import SourceConfig
from egsu_agent.samples import Sample
from egsu_agent.sources import Batch, SourceError
from egsu_agent.sources.timestamps import parse_value


class OpcUaSource:
    def __init__(self, config: SourceConfig, *, timeout: float = 4) -> None:
        self.name = config.name
        self.config = config
        self.timeout = timeout
        self.client = None

    def _connect(self):
        from asyncua.sync import Client

        client = Client(self.config.url, timeout=self.timeout)
        client.connect()
        self.client = client
        return client

    def read(self, now: datetime, *, since=None, seen=None) -> Batch:
        try:
            client = self.client or self._connect()
            samples = []
            for node in self.config.nodes:
                data = client.get_node(node.node).read_data_value()
                good = data.StatusCode is None or data.StatusCode.is_good()
                value = data.Value.Value if data.Value is not None else None
                number = parse_value(value) if value is not None else Decimal(0)
                samples.append(Sample(at=now, tag=node.tag, value=number, fault=not good or value is None))
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001 - asyncua raises many kinds (timeouts, BadXxx, OSError)
            self.close()
            raise SourceError(f"OPC UA {self.config.url}: {exc!r}") from exc
        return Batch(samples=samples)

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.disconnect()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self.client = None
