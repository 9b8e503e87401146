"""Real device servers for the agent's tests: a pymodbus TCP server, an asyncua server (SMTP: tests/smtp.py)."""

from __future__ import annotations

import asyncio
import socket
import threading

from pymodbus.client import ModbusTcpClient
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ModbusSimulator:
    """A pymodbus TCP server on a free port; the test writes its holding registers over Modbus, as a PLC would.

    With ``input_registers`` (address → 16-bit words) the server keeps separate holding and
    input register tables, the input ones fixed at those words (a client cannot write them).
    """

    def __init__(self, unit: int = 1, input_registers: dict[int, list[int]] | None = None) -> None:
        self.unit = unit
        self.port = free_port()
        if input_registers is None:
            simdata = [SimData(0, count=200, values=0, datatype=DataType.REGISTERS)]
        else:
            words = [0] * 200
            for address, values in input_registers.items():
                words[address : address + len(values)] = values
            simdata = (
                [SimData(0, count=16, values=False, datatype=DataType.BITS)],
                [SimData(0, count=16, values=False, datatype=DataType.BITS)],
                [SimData(0, count=200, values=0, datatype=DataType.REGISTERS)],
                [SimData(0, count=200, values=words, datatype=DataType.REGISTERS)],
            )
        self.context = SimDevice(id=unit, simdata=simdata)
        self.writer: ModbusTcpClient | None = None
        self.loop = asyncio.new_event_loop()
        self.server: ModbusTcpServer | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.ready = threading.Event()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.server = ModbusTcpServer(self.context, address=("127.0.0.1", self.port))
            self.ready.set()
            await self.server.serve_forever()

        self.loop.run_until_complete(main())

    def start(self) -> ModbusSimulator:
        self.thread.start()
        self.ready.wait(10)
        for _ in range(100):  # until it listens
            client = ModbusTcpClient("127.0.0.1", port=self.port, timeout=1)
            if client.connect():
                self.writer = client
                return self
            threading.Event().wait(0.05)
        raise RuntimeError("the Modbus simulator did not start")

    def set_float32(self, address: int, value: float) -> None:
        registers = ModbusTcpClient.convert_to_registers(value, ModbusTcpClient.DATATYPE.FLOAT32)
        answer = self.writer.write_registers(address, registers, device_id=self.unit)
        assert not answer.isError(), answer

    def set_words(self, address: int, words: list[int]) -> None:
        answer = self.writer.write_registers(address, words, device_id=self.unit)
        assert not answer.isError(), answer

    def set_uint16(self, address: int, value: int) -> None:
        answer = self.writer.write_registers(address, [value], device_id=self.unit)
        assert not answer.isError(), answer

    def stop(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.server is not None:
            asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(10)
        self.thread.join(10)


class OpcUaSimulator:
    """An asyncua server on a free port with float variables the test writes."""

    def __init__(self, names: list[str]) -> None:
        from asyncua.sync import Server

        self.port = free_port()
        self.url = f"opc.tcp://127.0.0.1:{self.port}/egsu-test/"
        self.server = Server()
        self.server.set_endpoint(self.url)
        index = self.server.register_namespace("urn:egsu:agent-test")
        self.namespace = index
        objects = self.server.nodes.objects
        self.variables = {name: objects.add_variable(f"ns={index};s={name}", name, 0.0) for name in names}

    def node_id(self, name: str) -> str:
        return f"ns={self.namespace};s={name}"

    def start(self) -> OpcUaSimulator:
        self.server.start()
        return self

    def set(self, name: str, value: float) -> None:
        self.variables[name].write_value(float(value))

    def set_status(self, name: str, value: float, status: str) -> None:
        """A value with an OPC UA status code (Good, Uncertain…, Bad…), as a server flags a doubtful reading."""
        from asyncua import ua

        code = ua.StatusCode(getattr(ua.StatusCodes, status))
        self.variables[name].write_value(ua.DataValue(ua.Variant(float(value), ua.VariantType.Double), code))

    def stop(self) -> None:
        self.server.stop()
