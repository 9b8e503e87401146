"""The agent's one configuration file (TOML), declared as pydantic models.

The models below ARE the file's documentation: every key, its type, its default and
its allowed values. Every mistake is reported, all at once, as
``file: key.path: what is wrong`` — an unknown key (a typo), a missing one, a wrong
type (strict: ``"60"`` is not a number), a code the App.2 table does not allow
(FMT-06/07), a unit that cannot measure the quantity (App.3), a tag that no source
reads. ``egsu-agent check-config`` runs this module and then looks at the data the
export sources hold (``tagcheck.py``). Relative paths are read relative to the
configuration file.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
import typing
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from egsu_agent.units import UnitError, check_unit
from egsu_core.isun.tables import TABLES
from egsu_core.pki.keys import SigningIdentity

MODBUS_TYPES = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "float64": 4}
SOURCE_TYPES = ("folder", "modbus", "opcua", "sql")
TOTALISER_FIELDS = ("massflowbegin", "massflowend", "mass")  # Table 1.3 rows 10–12
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SQL_URL = re.compile(r"(sqlite:///.+|postgres(ql)?://.+)")
INT_15MB = 15 * 1000 * 1000  # INT-07, read as decimal megabytes: the stricter of the two readings
INT_10_HOURS = 3  # INT-10: a notice within three hours


class ConfigError(Exception):
    """All problems of one configuration file, one per line."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("config", message)


def _resolve(value: str | Path, info: ValidationInfo) -> Path:
    path = Path(value).expanduser()
    base = (info.context or {}).get("base") if info is not None else None
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return path


def _existing(value: str | Path, info: ValidationInfo) -> Path:
    path = _resolve(value, info)
    if not path.exists():
        raise _problem(f"{path} does not exist")
    return path


def _secret(inline: str | None, env_name: str | None, key: str, *, required: bool) -> str | None:
    """A secret given inline (``key``) or through an environment variable (``key_env``)."""
    if inline is not None and env_name is not None:
        raise _problem(f"give {key} or {key}_env, not both")
    if env_name is not None:
        if env_name not in os.environ:
            raise _problem(f"environment variable {env_name} is not set")
        return os.environ[env_name]
    if inline is None and required:
        raise _problem(f"missing; give {key} or {key}_env (the name of an environment variable)")
    return inline


class _Section(BaseModel):
    """Strict: unknown keys are mistakes, and no text is silently read as a number."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)


# ---------------------------------------------------------------- [agent]


class AgentSection(_Section):
    database: Path | None = None
    """Samples, outbox, attempt journal; default ``agent.sqlite3`` beside the configuration."""
    decimals: int = Field(3, ge=0, le=12)
    log_format: Literal["json", "text"] = "json"

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: Any, info: ValidationInfo) -> Any:
        return _resolve(value, info) if isinstance(value, str) else value


# ---------------------------------------------------------------- [system]


class SystemConfig(_Section):
    wsdl: str
    endpoint: str | None = None
    service_id: str = "ISUN_Service2"
    sender_id: str = Field(min_length=1)
    password: str | None = Field(None, repr=False)
    password_env: str | None = Field(None, validate_default=True)
    key_store: Path | None = None
    """The owner's NCA key store (PKCS#12, RSA or GOST), as NCA issues it; or ``sign_key`` with
    ``sign_cert`` (PEM files, the test stand's form). Its password is never written here."""
    key_store_password_env: str | None = None
    """The name of the environment variable holding the key store's password..."""
    key_store_password_file: Path | None = None
    """...or a file holding it (one line; readable by the agent's account only)."""
    key_store_password: str | None = Field(None, repr=False)
    """Refused: a key store's password is never kept in the configuration file in clear."""
    sign_key: Path | None = None
    sign_cert: Path | None = None
    sign_business_data: bool = False
    """Also sign the records (enveloped XMLDSig on ``data``, SIG-03)."""
    system_cert: Path | None = None
    """The System's signing certificate (the stand's manifest ``system_cert``): answers must carry
    its WS-Security signature (App.1 §51), or they are not believed."""
    trust_roots: Path | None = None
    """Instead of (or besides) ``system_cert``: NCA roots the System's certificate must chain to."""
    timeout_seconds: float = Field(60.0, gt=0, le=300)
    _identity: Any = PrivateAttr(None)

    @field_validator("wsdl", "endpoint")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise _problem(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("password_env")
    @classmethod
    def _password(cls, value: str | None, info: ValidationInfo) -> str | None:
        _secret(info.data.get("password"), value, "password", required=True)
        return value

    @field_validator(
        "key_store", "key_store_password_file", "sign_key", "sign_cert", "system_cert", "trust_roots",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _files(cls, value: Any, info: ValidationInfo) -> Any:
        return _existing(value, info) if isinstance(value, str) else value

    @field_validator("key_store_password")
    @classmethod
    def _no_clear_password(cls, value: str | None) -> str | None:
        if value is not None:
            raise _problem(
                "a key store's password is never written in the configuration: "
                "give key_store_password_env or key_store_password_file"
            )
        return value

    @model_validator(mode="after")
    def _load_identity(self) -> SystemConfig:
        """The signing identity, read once here so that check-config proves the key can sign."""
        from egsu_core.pki.keys import load_identity

        if self.key_store is not None:
            if self.sign_key is not None or self.sign_cert is not None:
                raise _problem("give key_store, or sign_key with sign_cert, not both")
            if (self.key_store_password_env is None) == (self.key_store_password_file is None):
                raise _problem(
                    "key_store needs its password from key_store_password_env or "
                    "key_store_password_file (one of them)"
                )
            if self.key_store_password_env is not None:
                if self.key_store_password_env not in os.environ:
                    raise _problem(f"environment variable {self.key_store_password_env} is not set")
                password = os.environ[self.key_store_password_env]
            else:
                password = self.key_store_password_file.read_text("utf-8").rstrip("\r\n")
            try:
                self._identity = load_identity(self.key_store.read_bytes(), password=password)
            except Exception as exc:  # noqa: BLE001 - wrong password, damaged or foreign store
                raise _problem(f"key_store {self.key_store.name} cannot be read: {exc}") from None
            return self
        if self.key_store_password_env is not None or self.key_store_password_file is not None:
            raise _problem("a key store password is given but no key_store")
        if self.sign_key is None or self.sign_cert is None:
            raise _problem("missing; give key_store (NCA PKCS#12), or sign_key with sign_cert (PEM)")
        try:
            self._identity = load_identity(self.sign_key.read_bytes(), self.sign_cert.read_bytes())
        except Exception as exc:  # noqa: BLE001 - cryptography and our GOST loader raise various kinds
            raise _problem(
                f"the key {self.sign_key.name} and the certificate {self.sign_cert.name} "
                f"cannot sign together: {exc}"
            ) from None
        return self

    @property
    def identity(self) -> SigningIdentity:
        """The owner's signing identity (key, certificate, the XML signature method of its kind)."""
        return self._identity

    @model_validator(mode="after")
    def _resolve_password(self) -> SystemConfig:
        self.password = _secret(self.password, self.password_env, "password", required=True)
        return self


# ---------------------------------------------------------------- [schedule], [delivery]


class ScheduleConfig(_Section):
    first_day: date
    """Periods before this Astana day are never built (the agent's go-live)."""
    poll_seconds: int = Field(60, ge=1, le=7200)
    daily: bool = True  # INT-33
    two_hourly: bool = True  # INT-34
    settle_minutes: int = Field(15, ge=0, le=110)
    """A period is first built this long after its slot, so exports that land a little after
    the hour are in its first message (read with INT-33/34: the slot closes the period)."""
    corrections_days: int = Field(35, ge=0, le=400)
    """A value that arrives later for a period already built, up to this many days after the
    period, sends a correction for it (a new message; INT-15 backfill, the System revises)."""

    @field_validator("two_hourly")
    @classmethod
    def _something(cls, value: bool, info: ValidationInfo) -> bool:
        if not value and info.data.get("daily") is False:
            raise _problem("daily and two_hourly are both false: nothing would ever be sent")
        return value

    @property
    def settle(self) -> timedelta:
        return timedelta(minutes=self.settle_minutes)


class DeliveryConfig(_Section):
    """The defaults are the order's; you may only be stricter."""

    retry_after_minutes: int = Field(30, ge=1, le=1440)  # INT-13
    attempts_per_day: int = Field(3, ge=1, le=3)  # INT-14
    max_message_bytes: int = Field(INT_15MB, ge=10_000, le=INT_15MB)  # INT-07

    @property
    def retry_after(self) -> timedelta:
        return timedelta(minutes=self.retry_after_minutes)


# ---------------------------------------------------------------- [notices]


EmailAddress = Annotated[str, Field(pattern=f"^{_EMAIL.pattern}$")]


class NoticeConfig(_Section):
    smtp_host: str = Field(min_length=1)
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = Field(None, repr=False)
    smtp_password_env: str | None = Field(None, validate_default=True)
    starttls: bool = False
    sender: EmailAddress = Field(alias="from")
    data_operator: list[EmailAddress] = Field(min_length=1)  # INT-10
    authorized_body: list[EmailAddress] = Field(min_length=1)  # INT-10
    company: str = Field(min_length=1)
    repair_days: int = Field(1, ge=1, le=30)
    """INT-10: the repair deadline reported with each failure notice."""
    failures_before_notice: int = Field(3, ge=1, le=100)
    """Consecutive failed sends that mean "the link to the System is down" (INT-10)."""
    no_data_after_minutes: int = Field(120, ge=10, le=INT_10_HOURS * 60 - 10)
    """A device whose last sample is this old is "silent": the INT-10 notice goes out at once,
    within three hours of that sample (set it above the usual lag of your exports)."""
    system_api: bool = False
    """Also file each notice through the System's notices API (POST /api/v1/notices, with the
    system section's senderId and password): the System then raises no missing-data alarm for an
    announced period (see notices.SystemNoticesApiChannel)."""

    @field_validator("smtp_password_env")
    @classmethod
    def _password(cls, value: str | None, info: ValidationInfo) -> str | None:
        _secret(info.data.get("smtp_password"), value, "smtp_password", required=False)
        return value

    @model_validator(mode="after")
    def _resolve_password(self) -> NoticeConfig:
        self.smtp_password = _secret(
            self.smtp_password, self.smtp_password_env, "smtp_password", required=False
        )
        return self

    @property
    def no_data_after(self) -> timedelta:
        return timedelta(minutes=self.no_data_after_minutes)


# ---------------------------------------------------------------- [[sources]]


class Register(_Section):
    tag: str = Field(min_length=1)
    address: int = Field(ge=0, le=65535)
    type: Literal["int16", "uint16", "int32", "uint32", "float32", "float64"] = "float32"
    table: Literal["holding", "input"] = "holding"
    word_order: Literal["big", "little"] = "big"
    """Order of the 16-bit words of a 32- or 64-bit value (bytes within a word are always big-endian)."""
    scale: float = 1.0
    offset: float = 0.0
    """The value kept is raw × scale + offset, in the unit the device mapping names."""


class OpcNode(_Section):
    tag: str = Field(min_length=1)
    node: str = Field(min_length=1)


class _Source(_Section):
    name: str = Field(min_length=1)

    @property
    def polled(self) -> bool:
        """Modbus and OPC UA give the value now; the agent stamps and keeps it (OGM-10)."""
        return self.type in ("modbus", "opcua")

    @property
    def declared_tags(self) -> tuple[str, ...]:
        """The tags this source is known to give, or () when only its data can tell."""
        return ()


class FolderSourceConfig(_Source):
    type: Literal["folder"]
    path: Path
    pattern: str = "*.csv"
    done: Path | None = None
    tags: list[str] = []
    """Optional: the tags the exports carry; then check-config needs no export to check the mapping."""

    @field_validator("path", mode="before")
    @classmethod
    def _folder(cls, value: Any, info: ValidationInfo) -> Any:
        return _existing(value, info) if isinstance(value, str) else value

    @field_validator("done", mode="before")
    @classmethod
    def _done(cls, value: Any, info: ValidationInfo) -> Any:
        return _resolve(value, info) if isinstance(value, str) else value

    @property
    def done_dir(self) -> Path:
        return self.done or self.path / "done"

    @property
    def declared_tags(self) -> tuple[str, ...]:
        return tuple(self.tags)


class ModbusSourceConfig(_Source):
    type: Literal["modbus"]
    host: str = Field(min_length=1)
    port: int = Field(502, ge=1, le=65535)
    unit: int = Field(1, ge=0, le=255)
    registers: list[Register] = Field(min_length=1)

    @property
    def declared_tags(self) -> tuple[str, ...]:
        return tuple(r.tag for r in self.registers)


class OpcUaSourceConfig(_Source):
    type: Literal["opcua"]
    url: str
    nodes: list[OpcNode] = Field(min_length=1)
    uncertain: Literal["fault", "accept"] = "fault"
    """A value whose status is Uncertain: a fault (left out, deviceStatus "no", INT-11 notice) or accepted."""

    @field_validator("url")
    @classmethod
    def _opc(cls, value: str) -> str:
        if not value.startswith("opc.tcp://"):
            raise _problem(f"{value!r} is not an opc.tcp:// URL")
        return value

    @property
    def declared_tags(self) -> tuple[str, ...]:
        return tuple(n.tag for n in self.nodes)


class SqlSourceConfig(_Source):
    type: Literal["sql"]
    url: str
    query: str
    tags: list[str] = []
    """Optional: the tags the query returns; then check-config needs no rows to check the mapping."""
    lookback_hours: int = Field(48, ge=0, le=24 * 60)
    """Time mode (``:since``): each read goes this far back before the newest time read, so rows
    written late by up to this long are still read (a re-read changes nothing)."""
    marker_start: int | str = 0
    """Change-marker mode (``:marker``): the marker before the first row (0 for an id, a text for a time)."""

    @field_validator("url")
    @classmethod
    def _sql(cls, value: str) -> str:
        if not _SQL_URL.fullmatch(value):
            raise _problem(f"{value!r} is not sqlite:///path or postgresql://…")
        return value

    @field_validator("query")
    @classmethod
    def _marker(cls, value: str) -> str:
        if ":since" not in value and ":marker" not in value:
            raise _problem(
                "must use :marker (a change marker the query returns as a column named marker) "
                "or :since (and :until) to read only new rows"
            )
        return value

    @property
    def uses_marker(self) -> bool:
        return ":marker" in self.query

    @property
    def declared_tags(self) -> tuple[str, ...]:
        return tuple(self.tags)


def _source_type(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in SOURCE_TYPES else None


SourceConfig = Annotated[
    Annotated[FolderSourceConfig, Tag("folder")]
    | Annotated[ModbusSourceConfig, Tag("modbus")]
    | Annotated[OpcUaSourceConfig, Tag("opcua")]
    | Annotated[SqlSourceConfig, Tag("sql")],
    Discriminator(_source_type, custom_error_type="source_type", custom_error_message="not a source type"),
]


# ---------------------------------------------------------------- [[devices]]


class TagUnit(_Section):
    tag: str = Field(min_length=1)
    unit: str = Field(min_length=1)


class QuantityMap(BaseModel):
    """One App.3 quantity of a device and the source tag (and its unit) it comes from."""

    model_config = ConfigDict(frozen=True)

    quantity: str
    tag: str
    unit: str


class DeviceConfig(_Section):
    object_id: str = Field(min_length=1)
    kind: str
    device: str = Field(min_length=1)
    """deviceNameId (deviceId in tables 1.2 and 1.9)."""
    device_type: int
    operation_type: int
    product_type: int
    pipeline: int | None = Field(None, validate_default=True)
    status_tag: str | None = None
    """Optional: a tag whose non-zero value marks the device unserviceable (FMT-05, INT-11)."""
    quantities: dict[str, TagUnit] = {}
    totaliser: TagUnit | None = None
    """Table 1.3: a cumulative mass counter → massflowbegin, massflowend, mass."""

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in TABLES:
            raise _problem(f"{value!r} is not an App.2 table; use one of {', '.join(TABLES)}")
        return value

    @field_validator("device_type")
    @classmethod
    def _device_type(cls, value: int, info: ValidationInfo) -> int:
        layout = TABLES.get(info.data.get("kind", ""))
        if layout is not None and value not in layout.device_types:  # FMT-06
            raise _problem(
                f"{value} is not allowed in table {layout.kind}; use {sorted(layout.device_types)}"
            )
        return value

    @field_validator("operation_type")
    @classmethod
    def _operation(cls, value: int, info: ValidationInfo) -> int:
        layout = TABLES.get(info.data.get("kind", ""))
        if layout is not None and value not in layout.operation_types:  # FMT-07
            raise _problem(
                f"{value} is not allowed in table {layout.kind}; use {sorted(layout.operation_types)}"
            )
        return value

    @field_validator("pipeline")
    @classmethod
    def _pipeline(cls, value: int | None, info: ValidationInfo) -> int | None:
        layout = TABLES.get(info.data.get("kind", ""))
        if layout is not None and layout.has_pipeline and value is None:
            raise _problem(f"missing; table {layout.kind} carries pipelineId")
        if layout is not None and not layout.has_pipeline and value is not None:
            raise _problem(f"table {layout.kind} has no pipelineId")
        return value

    @field_validator("quantities")
    @classmethod
    def _quantities(cls, value: dict[str, TagUnit], info: ValidationInfo) -> dict[str, TagUnit]:
        layout = TABLES.get(info.data.get("kind", ""))
        errors = []
        for quantity, spec in value.items():
            if layout is not None and quantity not in layout.quantities:
                errors.append(
                    (quantity, f"table {layout.kind} does not carry {quantity}; it carries "
                     f"{', '.join(layout.quantities)}")
                )  # fmt: skip
            elif quantity in TOTALISER_FIELDS:
                errors.append(
                    (quantity, "mass fields of table 1.3 come from [devices.totaliser], not from quantities")
                )
            else:
                try:
                    check_unit(quantity, spec.unit)
                except UnitError as exc:
                    errors.append((f"{quantity}.unit", str(exc)))
        if errors:
            raise _nested(errors)
        return value

    @field_validator("totaliser")
    @classmethod
    def _totaliser(cls, value: TagUnit | None, info: ValidationInfo) -> TagUnit | None:
        layout = TABLES.get(info.data.get("kind", ""))
        if value is None:
            return value
        if layout is not None and "mass" not in layout.quantities:
            raise _problem(f"table {layout.kind} carries no mass; a totaliser belongs to table 1.3")
        try:
            check_unit("mass", value.unit)
        except UnitError as exc:
            raise _nested([("unit", str(exc))]) from None
        return value

    @model_validator(mode="after")
    def _something_mapped(self) -> DeviceConfig:
        if not self.quantities and self.totaliser is None:
            raise _nested([("quantities", "missing; map at least one quantity to a tag")])
        return self

    @property
    def key(self) -> str:
        return f"{self.object_id}/{self.device}"

    @property
    def quantity_maps(self) -> tuple[QuantityMap, ...]:
        return tuple(QuantityMap(quantity=q, tag=s.tag, unit=s.unit) for q, s in self.quantities.items())

    @property
    def totaliser_map(self) -> QuantityMap | None:
        if self.totaliser is None:
            return None
        return QuantityMap(quantity="mass", tag=self.totaliser.tag, unit=self.totaliser.unit)

    @property
    def tags(self) -> tuple[str, ...]:
        tags = [s.tag for s in self.quantities.values()]
        if self.totaliser:
            tags.append(self.totaliser.tag)
        if self.status_tag:
            tags.append(self.status_tag)
        return tuple(tags)


def _nested(problems: list[tuple[str, str]]) -> PydanticCustomError:
    return PydanticCustomError(
        "config_nested", "; ".join(f"{k}: {m}" for k, m in problems), {"problems": problems}
    )


# ---------------------------------------------------------------- the file


class AgentConfig(_Section):
    agent: AgentSection = AgentSection()
    system: SystemConfig
    schedule: ScheduleConfig
    delivery: DeliveryConfig = DeliveryConfig()
    notices: NoticeConfig | None = None
    sources: list[SourceConfig] = Field(min_length=1)
    devices: list[DeviceConfig] = Field(min_length=1)
    _path: Path = PrivateAttr(Path("agent.toml").resolve())

    @property
    def path(self) -> Path:
        """The file it was read from."""
        return self._path

    @property
    def database(self) -> Path:
        return self.agent.database or self.path.parent / "agent.sqlite3"

    @property
    def decimals(self) -> int:
        return self.agent.decimals

    @property
    def log_format(self) -> str:
        return self.agent.log_format

    def source_of(self, tag: str) -> list[str]:
        return [s.name for s in self.sources if tag in s.declared_tags]


def load_config(path: str | Path) -> AgentConfig:
    """Read and validate the configuration file; raise ConfigError listing every problem."""
    path = Path(path).resolve()
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, ["the configuration file does not exist"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from None
    context = {"base": path.parent}
    problems: list[str] = []
    config = None
    try:
        config = AgentConfig.model_validate(raw, context=context)
        config._path = path
    except ValidationError as exc:
        problems += _messages(exc, raw)
    sources, devices = _valid_items(raw, context, config)
    problems += cross_checks(sources, devices)
    if problems:
        raise ConfigError(path, problems)
    return config


def _valid_items(raw: dict, context: dict, config: AgentConfig | None) -> tuple[list, list]:
    """The sources and devices that are valid on their own (by index), for the cross-checks."""
    if config is not None:
        return list(config.sources), list(config.devices)
    out = []
    for key, kind in (("sources", SourceConfig), ("devices", DeviceConfig)):
        items = raw.get(key) if isinstance(raw.get(key), list) else []
        adapter = TypeAdapter(kind)
        valid = []
        for item in items:
            try:
                valid.append(adapter.validate_python(item, context=context))
            except ValidationError:
                valid.append(None)
        out.append(valid)
    return out[0], out[1]


def cross_checks(sources: list, devices: list) -> list[str]:
    """Names unique, declared tags read once, every device tag read by some source.

    A tag is "read" when a Modbus register, an OPC UA node or the ``tags`` list of a
    folder or SQL source names it. When a folder or SQL source lists no tags, only its
    data can tell: ``tagcheck.check_tags`` (run by check-config) looks at it.
    """
    problems: list[str] = []
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
        for tag in source.declared_tags if source.polled else ():
            if tag in declared:
                problems.append(f"sources[{index}]: tag {tag!r} is already read by source {declared[tag]!r}")
            declared[tag] = source.name
        for tag in source.declared_tags:
            declared.setdefault(tag, source.name)
    closed = all(s is not None and (s.polled or s.declared_tags) for s in sources)
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
        if closed:
            for tag in device.tags:
                if tag not in declared:
                    problems.append(
                        f"devices[{index}]: tag {tag!r} is read by no source (no register, node or "
                        "tags entry names it)"
                    )
    return problems


# ---------------------------------------------------------------- pydantic errors → "key.path: problem"

_LABELS = {
    "string_type": "a text",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "date_type": "a date (YYYY-MM-DD, unquoted)",
    "list_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


def _messages(exc: ValidationError, raw: dict) -> list[str]:
    out = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        where = _where(loc, raw)
        kind = error["type"]
        if kind == "config_nested":
            out += [f"{_join(where, key)}: {message}" for key, message in error["ctx"]["problems"]]
            continue
        message = _message(error, loc, raw)
        if kind == "source_type":
            where = _join(where, "type")
        out.append(f"{where}: {message}")
    return out


def _message(error: dict, loc: list, raw: dict) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "config":
        return error["msg"]
    if kind == "missing":
        return "missing; this key is required"
    if kind == "extra_forbidden":
        return f"unknown key; allowed here: {', '.join(_allowed(loc, raw))}"
    if kind == "source_type":
        found = value.get("type") if isinstance(value, dict) else None
        if found is None:
            return f"missing; use one of {', '.join(SOURCE_TYPES)}"
        return f"{found!r} is not a source type; use one of {', '.join(SOURCE_TYPES)}"
    if kind in _LABELS:
        return f"{value!r} is not {_LABELS[kind]}"
    if kind == "literal_error":
        return f"{value!r} is not one of {error['ctx']['expected']}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{value!r} is outside {_range(error, loc, raw)}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} is not an e-mail address"
    if kind == "too_short":
        return "is empty"
    return error["msg"]


def _range(error: dict, loc: list, raw: dict) -> str:
    field = _field_at(loc, raw)
    low = high = None
    for meta in getattr(field, "metadata", ()):
        low = getattr(meta, "ge", getattr(meta, "gt", low))
        high = getattr(meta, "le", getattr(meta, "lt", high))
    return f"{low if low is not None else '…'}…{high if high is not None else '…'}"


def _where(loc: list, raw: dict) -> str:
    """The key path as the file spells it: tables dotted, array items [i], union tags left out."""
    text = ""
    node: Any = raw
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        if _is_tag(loc, index, node):
            continue
        text = f"{text}.{part}" if text else str(part)
        node = node.get(part) if isinstance(node, dict) else None
    return text


def _is_tag(loc: list, index: int, node: Any) -> bool:
    """Pydantic puts a tagged union's tag in the path (sources[0].modbus.host): skip it."""
    return index == 2 and loc[0] == "sources" and isinstance(node, dict) and node.get("type") == loc[2]


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _model_at(loc: list, raw: dict) -> type[BaseModel] | None:
    """The model class that holds the key at ``loc`` (for listing the keys allowed there)."""
    annotation: Any = AgentConfig
    node: Any = raw
    for index, part in enumerate(loc):
        model = _unwrap(annotation, node)
        if isinstance(part, int):
            args = typing.get_args(model)
            annotation = args[0] if args else None
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        if _is_tag(loc, index, node):
            continue
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = _fields(model).get(part)
            if field is None:
                return model
            annotation = field.annotation
        elif typing.get_origin(model) is dict:
            annotation = typing.get_args(model)[1]
        else:
            return None
        node = node.get(part) if isinstance(node, dict) else None
    model = _unwrap(annotation, node)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _field_at(loc: list, raw: dict):
    model = _model_at(loc[:-1], raw)
    return _fields(model).get(loc[-1]) if model is not None else None


def _fields(model: type[BaseModel]) -> dict:
    return {(field.alias or name): field for name, field in model.model_fields.items()}


def _unwrap(annotation: Any, node: Any) -> Any:
    """Strip Optional, Annotated and the source union (picked by the item's ``type``)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            chosen = None
            for option in options:
                inner = typing.get_args(option)[0] if typing.get_origin(option) is Annotated else option
                if isinstance(inner, type) and issubclass(inner, _Source):
                    wanted = typing.get_args(inner.model_fields["type"].annotation)
                    if isinstance(node, dict) and node.get("type") in wanted:
                        chosen = inner
                elif chosen is None and len(options) == 1:
                    chosen = inner
            if chosen is None and len(options) == 1:
                chosen = options[0]
            if chosen is None:
                return None
            annotation = chosen
            continue
        return annotation


def _allowed(loc: list, raw: dict) -> list[str]:
    model = _model_at(loc[:-1], raw)
    return sorted(_fields(model)) if model is not None else []
