"""The agent's one configuration file (TOML): the System, the schedule, the sources and the devices.

Every mistake is reported, all at once, as ``file: key.path: what is wrong`` — an
unknown key (a typo), a missing one, a wrong type, a code the App.2 table does not
allow (FMT-06/07), a unit that cannot measure the quantity (App.3), a tag no
source provides. The README documents every key; ``egsu-agent check-config`` runs
this module. Relative paths are read relative to the configuration file.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from egsu.isun.tables import TABLES
from egsu.pki.keys import load_identity
from egsu_agent.units import UnitError, check_unit

MODBUS_TYPES = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "float64": 4}
SOURCE_TYPES = ("folder", "modbus", "opcua", "sql")
TOTALISER_FIELDS = ("massflowbegin", "massflowend", "mass")  # Table 1.3 rows 10–12
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SQL_URL = re.compile(r"(sqlite:///.+|postgres(ql)?://.+)")
INT_15MB = 15 * 1000 * 1000  # INT-07, read as decimal megabytes: the stricter of the two readings


class ConfigError(Exception):
    """All problems of one configuration file, one per line."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))


@dataclass(frozen=True)
class SystemConfig:
    wsdl: str
    endpoint: str | None
    service_id: str
    sender_id: str
    password: str = field(repr=False)
    sign_key: Path
    sign_cert: Path
    sign_business_data: bool
    timeout_seconds: float


@dataclass(frozen=True)
class ScheduleConfig:
    first_day: date
    """Periods before this Astana day are never built (the agent's go-live)."""
    poll_seconds: int
    daily: bool  # INT-33
    two_hourly: bool  # INT-34


@dataclass(frozen=True)
class DeliveryConfig:
    retry_after: timedelta  # INT-13
    attempts_per_day: int  # INT-14
    max_message_bytes: int  # INT-07


@dataclass(frozen=True)
class NoticeConfig:
    smtp_host: str
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None = field(repr=False)
    starttls: bool
    sender: str
    data_operator: tuple[str, ...]  # INT-10
    authorized_body: tuple[str, ...]  # INT-10
    company: str
    repair_days: int  # INT-10: the repair deadline reported within a day
    failures_before_notice: int
    system_api: bool
    """Also file notices through the System's API — which does not exist yet (see notices.SystemApiChannel)."""


@dataclass(frozen=True)
class Register:
    tag: str
    address: int
    type: str
    table: str  # "holding" or "input"
    scale: float
    word_order: str  # "big" or "little"


@dataclass(frozen=True)
class OpcNode:
    tag: str
    node: str


@dataclass(frozen=True)
class SourceConfig:
    name: str
    type: str
    # folder
    path: Path | None = None
    pattern: str = "*.csv"
    done: Path | None = None
    # modbus
    host: str = ""
    port: int = 502
    unit: int = 1
    registers: tuple[Register, ...] = ()
    # opcua
    url: str = ""
    nodes: tuple[OpcNode, ...] = ()
    # sql
    query: str = ""

    @property
    def polled(self) -> bool:
        """Modbus and OPC UA give the value now; the agent stamps and keeps it (OGM-10)."""
        return self.type in ("modbus", "opcua")

    @property
    def declared_tags(self) -> tuple[str, ...]:
        return tuple(r.tag for r in self.registers) + tuple(n.tag for n in self.nodes)


@dataclass(frozen=True)
class QuantityMap:
    quantity: str
    tag: str
    unit: str


@dataclass(frozen=True)
class DeviceConfig:
    object_id: str
    kind: str
    device: str  # deviceNameId (deviceId in tables 1.2 and 1.9)
    device_type: int
    operation_type: int
    product_type: int
    pipeline: int | None
    quantities: tuple[QuantityMap, ...]
    totaliser: QuantityMap | None
    status_tag: str | None

    @property
    def key(self) -> str:
        return f"{self.object_id}/{self.device}"

    @property
    def tags(self) -> tuple[str, ...]:
        tags = [q.tag for q in self.quantities]
        if self.totaliser:
            tags.append(self.totaliser.tag)
        if self.status_tag:
            tags.append(self.status_tag)
        return tuple(tags)


@dataclass(frozen=True)
class AgentConfig:
    path: Path
    database: Path
    decimals: int
    log_format: str
    system: SystemConfig
    schedule: ScheduleConfig
    delivery: DeliveryConfig
    notices: NoticeConfig | None
    sources: tuple[SourceConfig, ...]
    devices: tuple[DeviceConfig, ...]


# ---------------------------------------------------------------- reading with paths


class _Table:
    """One TOML table being read: remembers the keys used, reports problems with their key path."""

    def __init__(self, data: dict[str, Any], path: str, problems: list[str], base: Path):
        self.data, self.path, self.problems, self.base = data, path, problems, base
        self.used: set[str] = set()

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self._where(key)}: {message}")

    def _get(self, key: str, kind: type | tuple[type, ...], label: str, required: bool, default: Any):
        self.used.add(key)
        if key not in self.data:
            if required:
                self.problem(key, f"missing; expected {label}")
            return default
        value = self.data[key]
        if (
            isinstance(value, bool)
            and kind is not bool
            and bool not in (kind if isinstance(kind, tuple) else ())
        ):
            self.problem(key, f"{value!r} is not {label}")
            return default
        if not isinstance(value, kind):
            self.problem(key, f"{value!r} is not {label}")
            return default
        return value

    def text(self, key: str, *, required: bool = True, default: str | None = None) -> str | None:
        value = self._get(key, str, "a text", required, default)
        if isinstance(value, str) and required and not value.strip():
            self.problem(key, "is empty")
        return value

    def integer(self, key: str, *, required: bool = True, default: int | None = None, low=None, high=None):
        value = self._get(key, int, "a whole number", required, default)
        if isinstance(value, int) and key in self.data:
            if (low is not None and value < low) or (high is not None and value > high):
                self.problem(key, f"{value} is outside {low}…{high}")
                return default
        return value

    def number(self, key: str, *, default: float) -> float:
        return float(self._get(key, (int, float), "a number", False, default))

    def flag(self, key: str, *, default: bool) -> bool:
        return self._get(key, bool, "true or false", False, default)

    def day(self, key: str) -> date | None:
        value = self._get(key, date, "a date (YYYY-MM-DD, unquoted)", True, None)
        return value

    def emails(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, "a list of e-mail addresses", True, [])
        good = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not _EMAIL.fullmatch(item):
                self.problems.append(f"{self._where(key)}[{index}]: {item!r} is not an e-mail address")
            else:
                good.append(item)
        if key in self.data and not value:
            self.problem(key, "is empty; give at least one address")
        return tuple(good)

    def path_value(self, key: str, *, must_exist: bool, required: bool = True) -> Path | None:
        value = self.text(key, required=required)
        if not value:
            return None
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = self.base / path
        if must_exist and not path.exists():
            self.problem(key, f"{path} does not exist")
        return path

    def secret(self, key: str, *, required: bool) -> str | None:
        """A secret given inline (``key``) or through an environment variable (``key_env``)."""
        inline = self.text(key, required=False)
        env_name = self.text(f"{key}_env", required=False)
        if inline is not None and env_name is not None:
            self.problem(key, f"give {key} or {key}_env, not both")
        if env_name is not None:
            if env_name not in os.environ:
                self.problem(f"{key}_env", f"environment variable {env_name} is not set")
                return None
            return os.environ[env_name]
        if inline is None and required:
            self.problem(key, f"missing; give {key} or {key}_env (the name of an environment variable)")
        return inline

    def table(self, key: str, *, required: bool) -> _Table | None:
        value = self._get(key, dict, "a table", required, None)
        return None if value is None else _Table(value, self._where(key), self.problems, self.base)

    def tables(self, key: str) -> list[_Table]:
        value = self._get(key, list, f"an array of tables ([[{self._where(key)}]])", False, [])
        out = []
        for index, item in enumerate(value):
            where = f"{self._where(key)}[{index}]"
            if not isinstance(item, dict):
                self.problems.append(f"{where}: {item!r} is not a table")
                continue
            out.append(_Table(item, where, self.problems, self.base))
        return out

    def done(self) -> None:
        """Unknown keys are mistakes (usually typos): name them and what is allowed."""
        for key in self.data:
            if key not in self.used:
                allowed = ", ".join(sorted(self.used))
                self.problem(key, f"unknown key; allowed here: {allowed}")


# ---------------------------------------------------------------- sections


def _system(root: _Table) -> SystemConfig | None:
    section = root.table("system", required=True)
    if section is None:
        return None
    wsdl = section.text("wsdl")
    endpoint = section.text("endpoint", required=False)
    service_id = section.text("service_id", required=False, default="ISUN_Service2")
    sender_id = section.text("sender_id")
    password = section.secret("password", required=True)
    sign_key = section.path_value("sign_key", must_exist=True)
    sign_cert = section.path_value("sign_cert", must_exist=True)
    business = section.flag("sign_business_data", default=False)
    timeout = section.number("timeout_seconds", default=60.0)
    if timeout <= 0 or timeout > 300:
        section.problem("timeout_seconds", f"{timeout} is outside 0…300 seconds")
    for key, value in (("wsdl", wsdl), ("endpoint", endpoint)):
        if value and not value.startswith(("http://", "https://")):
            section.problem(key, f"{value!r} is not an http(s) URL")
    section.done()
    if sign_key is not None and sign_cert is not None and sign_key.is_file() and sign_cert.is_file():
        try:
            load_identity(sign_key.read_bytes(), sign_cert.read_bytes())
        except Exception as exc:  # noqa: BLE001 - cryptography and our GOST loader raise various kinds
            section.problem("sign_key", f"the key and certificate cannot be used for signing: {exc}")
    if None in (wsdl, sender_id, password, sign_key, sign_cert):
        return None
    return SystemConfig(
        wsdl=wsdl,
        endpoint=endpoint,
        service_id=service_id,
        sender_id=sender_id,
        password=password,
        sign_key=sign_key,
        sign_cert=sign_cert,
        sign_business_data=business,
        timeout_seconds=timeout,
    )


def _schedule(root: _Table) -> ScheduleConfig | None:
    section = root.table("schedule", required=True)
    if section is None:
        return None
    first_day = section.day("first_day")
    poll = section.integer("poll_seconds", required=False, default=60, low=1, high=7200)
    daily = section.flag("daily", default=True)
    two_hourly = section.flag("two_hourly", default=True)
    if not daily and not two_hourly:
        section.problem("daily", "daily and two_hourly are both false: nothing would ever be sent")
    section.done()
    if first_day is None or poll is None:
        return None
    return ScheduleConfig(first_day=first_day, poll_seconds=poll, daily=daily, two_hourly=two_hourly)


def _delivery(root: _Table) -> DeliveryConfig:
    section = root.table("delivery", required=False) or _Table({}, "delivery", root.problems, root.base)
    retry = section.integer("retry_after_minutes", required=False, default=30, low=1, high=1440)
    attempts = section.integer("attempts_per_day", required=False, default=3, low=1, high=3)
    size = section.integer("max_message_bytes", required=False, default=INT_15MB, low=10_000, high=INT_15MB)
    section.done()
    return DeliveryConfig(
        retry_after=timedelta(minutes=retry or 30),
        attempts_per_day=attempts or 3,
        max_message_bytes=size or INT_15MB,
    )


def _notices(root: _Table) -> NoticeConfig | None:
    section = root.table("notices", required=False)
    if section is None:
        return None
    host = section.text("smtp_host")
    port = section.integer("smtp_port", required=False, default=25, low=1, high=65535)
    user = section.text("smtp_user", required=False)
    password = section.secret("smtp_password", required=False)
    starttls = section.flag("starttls", default=False)
    sender = section.text("from")
    if sender and not _EMAIL.fullmatch(sender):
        section.problem("from", f"{sender!r} is not an e-mail address")
    operator = section.emails("data_operator")
    authority = section.emails("authorized_body")
    company = section.text("company")
    repair_days = section.integer("repair_days", required=False, default=1, low=1, high=30)
    failures = section.integer("failures_before_notice", required=False, default=3, low=1, high=100)
    system_api = section.flag("system_api", default=False)
    section.done()
    if None in (host, sender, company):
        return None
    return NoticeConfig(
        smtp_host=host,
        smtp_port=port or 25,
        smtp_user=user,
        smtp_password=password,
        starttls=starttls,
        sender=sender,
        data_operator=operator,
        authorized_body=authority,
        company=company,
        repair_days=repair_days or 1,
        failures_before_notice=failures or 3,
        system_api=system_api,
    )


def _source(table: _Table) -> SourceConfig | None:
    name = table.text("name")
    kind = table.text("type")
    if kind is not None and kind not in SOURCE_TYPES:
        table.problem("type", f"{kind!r} is not a source type; use one of {', '.join(SOURCE_TYPES)}")
        kind = None
    options: dict[str, Any] = {}
    if kind == "folder":
        options["path"] = table.path_value("path", must_exist=True)
        options["pattern"] = table.text("pattern", required=False, default="*.csv")
        options["done"] = table.path_value("done", must_exist=False, required=False)
    elif kind == "modbus":
        options["host"] = table.text("host")
        options["port"] = table.integer("port", required=False, default=502, low=1, high=65535)
        options["unit"] = table.integer("unit", required=False, default=1, low=0, high=255)
        registers = []
        for reg in table.tables("registers"):
            tag = reg.text("tag")
            address = reg.integer("address", low=0, high=65535)
            rtype = reg.text("type", required=False, default="float32")
            if rtype not in MODBUS_TYPES:
                reg.problem("type", f"{rtype!r} is not one of {', '.join(MODBUS_TYPES)}")
            rtable = reg.text("table", required=False, default="holding")
            if rtable not in ("holding", "input"):
                reg.problem("table", f"{rtable!r} is not holding or input")
            order = reg.text("word_order", required=False, default="big")
            if order not in ("big", "little"):
                reg.problem("word_order", f"{order!r} is not big or little")
            scale = reg.number("scale", default=1.0)
            reg.done()
            if tag and address is not None:
                registers.append(Register(tag, address, rtype, rtable, scale, order))
        if not registers:
            table.problem("registers", "a modbus source needs at least one [[sources.registers]]")
        options["registers"] = tuple(registers)
    elif kind == "opcua":
        options["url"] = table.text("url")
        if options["url"] and not options["url"].startswith("opc.tcp://"):
            table.problem("url", f"{options['url']!r} is not an opc.tcp:// URL")
        nodes = []
        for node in table.tables("nodes"):
            tag, node_id = node.text("tag"), node.text("node")
            node.done()
            if tag and node_id:
                nodes.append(OpcNode(tag, node_id))
        if not nodes:
            table.problem("nodes", "an opcua source needs at least one [[sources.nodes]]")
        options["nodes"] = tuple(nodes)
    elif kind == "sql":
        options["url"] = table.text("url")
        if options["url"] and not _SQL_URL.fullmatch(options["url"]):
            table.problem("url", f"{options['url']!r} is not sqlite:///path or postgresql://…")
        options["query"] = table.text("query")
        if options["query"] and ":since" not in options["query"]:
            table.problem("query", "must use :since (and may use :until) to read only new rows")
    table.done()
    if not name or not kind or any(v is None for k, v in options.items() if k != "done"):
        return None
    return SourceConfig(name=name, type=kind, **options)


def _device(table: _Table) -> DeviceConfig | None:
    object_id = table.text("object_id")
    kind = table.text("kind")
    layout = TABLES.get(kind) if kind else None
    if kind and layout is None:
        table.problem("kind", f"{kind!r} is not an App.2 table; use one of {', '.join(TABLES)}")
    device = table.text("device")
    device_type = table.integer("device_type")
    operation = table.integer("operation_type")
    product = table.integer("product_type")
    pipeline = table.integer("pipeline", required=False)
    status_tag = table.text("status_tag", required=False)
    if layout is not None:
        if device_type is not None and device_type not in layout.device_types:  # FMT-06
            table.problem(
                "device_type",
                f"{device_type} is not allowed in table {kind}; use {sorted(layout.device_types)}",
            )
        if operation is not None and operation not in layout.operation_types:  # FMT-07
            table.problem(
                "operation_type",
                f"{operation} is not allowed in table {kind}; use {sorted(layout.operation_types)}",
            )
        if layout.has_pipeline and pipeline is None:
            table.problem("pipeline", f"missing; table {kind} carries pipelineId")
        if not layout.has_pipeline and pipeline is not None:
            table.problem("pipeline", f"table {kind} has no pipelineId")
    quantities: list[QuantityMap] = []
    mapping = table.table("quantities", required=False)
    if mapping is not None:
        for quantity in list(mapping.data):
            mapping.used.add(quantity)
            spec = mapping.table(quantity, required=True)
            if spec is None:
                continue
            tag, unit = spec.text("tag"), spec.text("unit")
            spec.done()
            if layout is not None and quantity not in layout.quantities:
                mapping.problem(
                    quantity,
                    f"table {kind} does not carry {quantity}; it carries {', '.join(layout.quantities)}",
                )
                continue
            if layout is not None and quantity in TOTALISER_FIELDS:
                mapping.problem(
                    quantity, "mass fields of table 1.3 come from [devices.totaliser], not from quantities"
                )
                continue
            if unit is not None:
                try:
                    check_unit(quantity, unit)
                except UnitError as exc:
                    spec.problem("unit", str(exc))
                    continue
            if tag and unit:
                quantities.append(QuantityMap(quantity, tag, unit))
    totaliser = None
    total = table.table("totaliser", required=False)
    if total is not None:
        tag, unit = total.text("tag"), total.text("unit")
        total.done()
        if layout is not None and "mass" not in layout.quantities:
            table.problem("totaliser", f"table {kind} carries no mass; a totaliser belongs to table 1.3")
        elif unit is not None:
            try:
                check_unit("mass", unit)
                if tag:
                    totaliser = QuantityMap("mass", tag, unit)
            except UnitError as exc:
                total.problem("unit", str(exc))
    if mapping is None and total is None:
        table.problem("quantities", "missing; map at least one quantity to a tag")
    table.done()
    required = (object_id, kind, device, device_type, operation, product)
    if any(v is None for v in required) or layout is None:
        return None
    if not quantities and totaliser is None:
        return None
    return DeviceConfig(
        object_id=object_id,
        kind=kind,
        device=device,
        device_type=device_type,
        operation_type=operation,
        product_type=product,
        pipeline=pipeline,
        quantities=tuple(quantities),
        totaliser=totaliser,
        status_tag=status_tag,
    )


def load_config(path: str | Path) -> AgentConfig:
    """Read and validate the configuration file; raise ConfigError listing every problem."""
    path = Path(path).resolve()
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, ["the configuration file does not exist"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from None
    problems: list[str] = []
    root = _Table(raw, "", problems, path.parent)
    agent = root.table("agent", required=False) or _Table({}, "agent", problems, path.parent)
    database = agent.path_value("database", must_exist=False, required=False) or path.parent / "agent.sqlite3"
    decimals = agent.integer("decimals", required=False, default=3, low=0, high=12)
    log_format = agent.text("log_format", required=False, default="json")
    if log_format not in ("json", "text"):
        agent.problem("log_format", f"{log_format!r} is not json or text")
    agent.done()
    system = _system(root)
    schedule = _schedule(root)
    delivery = _delivery(root)
    notices = _notices(root)
    sources = [_source(t) for t in root.tables("sources")]
    devices = [_device(t) for t in root.tables("devices")]
    root.done()
    if not root.data.get("sources"):
        problems.append("sources: missing; declare at least one [[sources]]")
    if not root.data.get("devices"):
        problems.append("devices: missing; declare at least one [[devices]]")
    _cross_checks(sources, devices, problems)
    if problems:
        raise ConfigError(path, problems)
    return AgentConfig(
        path=path,
        database=database,
        decimals=decimals,
        log_format=log_format,
        system=system,
        schedule=schedule,
        delivery=delivery,
        notices=notices,
        sources=tuple(sources),
        devices=tuple(devices),
    )


def _cross_checks(sources: list, devices: list, problems: list[str]) -> None:
    """Names unique, polled tags declared once, every device tag provided by some source."""
    names: dict[str, int] = {}
    declared: dict[str, str] = {}
    for index, source in enumerate(sources):
        if source is None:
            continue
        if source.name in names:
            problems.append(
                f"sources[{index}].name: {source.name!r} is already used by sources[{names[source.name]}]"
            )
        names[source.name] = index
        for tag in source.declared_tags:
            if tag in declared:
                problems.append(f"sources[{index}]: tag {tag!r} is already read by source {declared[tag]!r}")
            declared[tag] = source.name
    open_ended = any(s is not None and not s.polled for s in sources)
    seen: dict[tuple[str, str], int] = {}
    for index, device in enumerate(devices):
        if device is None:
            continue
        key = (device.object_id, device.device)
        if key in seen:
            problems.append(
                f"devices[{index}]: object {key[0]} device {key[1]} is already devices[{seen[key]}]"
            )
        seen[key] = index
        if not open_ended:
            for tag in device.tags:
                if tag not in declared:
                    problems.append(
                        f"devices[{index}]: tag {tag!r} is read by no source (declare it in a modbus or opcua source)"
                    )
