"""Modbus TCP registers read with the pymodbus client; the agent stamps each value with the poll time.

Per register: address, type (int16, uint16, int32, uint32, float32, float64), holding
or input table, the order of the 16-bit words of a 32- or 64-bit value ("big": the
first register holds the most significant word, "little": the least; the bytes inside
each register are big-endian, as Modbus defines), and ``value = raw × scale + offset``.
A read error skips that poll (SourceError): the gap shows up as a silent device
(deviceStatus "no", and the INT-10 notice when it lasts).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from egsu_agent.config import MODBUS_TYPES, ModbusSourceConfig, Register
from egsu_agent.samples import Sample
from egsu_agent.sources import Batch, SourceError


def register_value(raw: int | float, register: Register) -> Decimal:
    """raw × scale + offset, exactly as the float the device gave was printed (no binary noise added)."""
    number = Decimal(raw) if isinstance(raw, int) else Decimal(repr(raw))
    scale, offset = Decimal(repr(register.scale)), Decimal(repr(register.offset))
    return number * scale + offset


class ModbusSource:
    def __init__(self, config: ModbusSourceConfig, *, timeout: float = 3) -> None:
        self.name = config.name
        self.config = config
        self.client = ModbusTcpClient(config.host, port=config.port, timeout=timeout, retries=0)

    def read(self, now: datetime, *, since=None, seen=None) -> Batch:
        if not self.client.connected and not self.client.connect():
            raise SourceError(f"cannot connect to Modbus TCP {self.config.host}:{self.config.port}")
        samples = []
        try:
            for register in self.config.registers:
                count = MODBUS_TYPES[register.type]
                reader = (
                    self.client.read_holding_registers
                    if register.table == "holding"
                    else self.client.read_input_registers
                )
                answer = reader(register.address, count=count, device_id=self.config.unit)
                if answer.isError():
                    raise SourceError(f"register {register.address} ({register.tag}): {answer}")
                raw = self.client.convert_from_registers(
                    answer.registers,
                    data_type=getattr(self.client.DATATYPE, register.type.upper()),
                    word_order=register.word_order,
                )
                samples.append(Sample(at=now, tag=register.tag, value=register_value(raw, register)))
        except (ModbusException, OSError) as exc:
            self.client.close()
            raise SourceError(f"Modbus TCP {self.config.host}:{self.config.port}: {exc}") from exc
        return Batch(samples=samples)

    def close(self) -> None:
        self.client.close()
