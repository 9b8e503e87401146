"""OPC UA node values read with the asyncua client; the agent stamps each value with the poll time.

The connection is kept open between polls and reopened after an error. The status code
of each value decides (FMT-05, INT-11):

- Good: the value is kept;
- Bad, or no value at all: a faulty sample — left out of the means, deviceStatus "no",
  and the device-fault notice goes out at once, naming the status;
- Uncertain: the same as Bad by default (the server itself doubts the value, e.g.
  ``UncertainLastUsableValue`` after a lost sensor link); ``uncertain = "accept"`` on the
  source keeps such values as good ones.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from egsu_agent.config import OpcUaSourceConfig
from egsu_agent.samples import Sample
from egsu_agent.sources import Batch, SourceError
from egsu_agent.sources.timestamps import parse_value


class OpcUaSource:
    def __init__(self, config: OpcUaSourceConfig, *, timeout: float = 4) -> None:
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
            samples = [self._sample(client.get_node(node.node).read_data_value(raise_on_bad_status=False), node.tag, now)
                       for node in self.config.nodes]  # fmt: skip
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001 - asyncua raises many kinds (timeouts, BadXxx, OSError)
            self.close()
            raise SourceError(f"OPC UA {self.config.url}: {exc!r}") from exc
        return Batch(samples=samples)

    def _sample(self, data, tag: str, now: datetime) -> Sample:
        status = data.StatusCode
        value = data.Value.Value if data.Value is not None else None
        note = ""
        fault = False
        if status is not None and status.is_bad():
            fault, note = True, f"OPC UA status {status.name}"
        elif status is not None and status.is_uncertain():
            fault = self.config.uncertain == "fault"
            note = f"OPC UA status {status.name}"
        if value is None:
            fault, note = True, note or "OPC UA node has no value"
        try:
            number = parse_value(value) if value is not None else Decimal(0)
        except ValueError:
            fault, number, note = True, Decimal(0), f"OPC UA value {value!r} is not a number"
        return Sample(at=now, tag=tag, value=number, fault=fault, note=note)

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.disconnect()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self.client = None
