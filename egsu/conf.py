"""Settings from environment variables, parsed and validated in one place.

Without any variable the system runs embedded: SQLite under ``var/``, jobs in
the database queue run by the worker that ``egsu serve`` starts, e-mail to the
console (the log). Production sets EGSU_ENV=production, and
then a missing secret or database fails loudly instead of falling back.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlparse, urlunparse

BASE_DIR = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _hosts(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return tuple(h.strip().lower() for h in raw.split(",") if h.strip())


def database_from_url(url: str, var_dir: Path) -> dict:
    """Turn ``sqlite:///path`` or ``postgresql://user:pw@host:port/name`` into a Django DATABASES entry.

    PostgreSQL takes libpq's multi-host form too, with libpq parameters in the query (DIG-19: a
    promoted replica is found without changing the setting, docs/operations.md "Availability"):
    ``postgresql://egsu:pw@db-a:5432,db-b:5432/egsu?target_session_attrs=read-write&connect_timeout=3``.
    """
    parsed = urlparse(url)
    # Connections are kept between requests for a minute; test runs close them at once, so that
    # live-server threads never hold the test database.
    kept_s = 0 if os.environ.get("PYTEST_VERSION") else 60
    if parsed.scheme == "sqlite":
        # sqlite:///relative/to/project.db or sqlite:////absolute/path.db
        rest = unquote(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else ""
        name = (
            rest if rest.startswith("/") else str(BASE_DIR / rest) if rest else str(var_dir / "egsu.sqlite3")
        )
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": {
                # WAL lets readers run beside the single writer; synchronous=FULL makes a
                # commit durable before we acknowledge a message (journal-before-answer).
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # Kept between requests as PostgreSQL's are: opening one (the pragmas, Django's functions)
            # cost 3.8 ms of CPU, about a tenth of a 100-record ISUN message (benchmarks/README.md).
            "CONN_MAX_AGE": kept_s,
            # A file, not shared memory, so that threads and live-server tests see real SQLite locking.
            # One file per test process, so that concurrent test runs never share (and break) one database.
            "TEST": {"NAME": str(var_dir / f"test-egsu-{os.getpid()}.sqlite3")},
        }
    if parsed.scheme in {"postgres", "postgresql"}:
        credentials, _, hostlist = parsed.netloc.rpartition("@")
        user, _, password = credentials.partition(":")
        hosts, ports = _hosts_and_ports(hostlist, url)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "egsu",
            "USER": unquote(user),
            "PASSWORD": unquote(password),
            "HOST": hosts,
            "PORT": ports,
            # libpq parameters (target_session_attrs, connect_timeout, sslmode …), passed to connect()
            "OPTIONS": _prepared(
                _planned_whole(dict(parse_qsl(parsed.query, strict_parsing=bool(parsed.query))))
            ),
            # A connection kept between requests is checked first (one round trip), so that after a
            # failover no request is answered with the error of a connection to the old primary.
            "CONN_HEALTH_CHECKS": True,
            "CONN_MAX_AGE": kept_s,
            "TEST": {"NAME": "test_" + (unquote(parsed.path.lstrip("/")) or "egsu")},
        }
    raise ConfigError(
        f"EGSU_DATABASE_URL has an unsupported scheme {parsed.scheme!r} (use sqlite or postgresql)"
    )


def _planned_whole(options: dict[str, str]) -> dict[str, str]:
    """libpq parameters with `cursor_tuple_fraction=1` added to the server options they may hold.

    Every server-side cursor of the System (Django's `iterator()`: the readings store's streamed
    rows and aggregates, exports) is read to its end; it streams to bound memory, not to see the
    first rows early. PostgreSQL plans a cursor for its first tenth by default, and on a freshly
    loaded table (no statistics yet) that chose a nested loop that read the table once a row: the
    streamed reads of 32,000 values took 30–65 s, against 0.3–0.9 s planned whole (benchmarks/sql_reads.py).
    """
    server = options.get("options", "")
    if "cursor_tuple_fraction" not in server:
        options["options"] = f"{server} -c cursor_tuple_fraction=1".strip()
    return options


# Options of Django's PostgreSQL backend itself, not libpq parameters: left out of `postgres_url`.
_DJANGO_OPTIONS = ("server_side_binding", "prepare_threshold")


def _prepared(options: dict) -> dict:
    """Server-side binding, and each statement prepared from its 5th run on a connection.

    A signed ISUN message runs the same few statements every time: prepared, PostgreSQL neither
    parses nor plans them again (about a fifth of its CPU for a message; prepared, its CPU a
    message fell by about a tenth: benchmarks/README.md, intake), and the parameters travel apart
    from the text instead of being quoted into it by the client. `?prepare_threshold=N` changes
    the threshold; `?prepare_threshold=off` keeps client-side binding and no prepared statements
    (behind a pooler that cannot keep them).
    """
    threshold = str(options.pop("prepare_threshold", "5")).strip().lower()
    options.pop("server_side_binding", None)  # implied by the threshold
    if threshold == "off":
        return options
    if not threshold.isdigit():
        raise ConfigError(f"EGSU_DATABASE_URL has a bad prepare_threshold {threshold!r} (a number, or off)")
    return {**options, "server_side_binding": True, "prepare_threshold": int(threshold)}


def _hosts_and_ports(hostlist: str, url: str) -> tuple[str, str]:
    """libpq's HOST and PORT lists ("a,b", "5432,5433") from "a:5432,b:5433" (IPv6 in brackets)."""
    hosts, ports = [], []
    for part in hostlist.split(",") if hostlist else []:
        if part.startswith("["):
            host, _, rest = part[1:].partition("]")
            port = rest.removeprefix(":")
        else:
            host, _, port = part.partition(":")
        if port and not port.isdigit():
            raise ConfigError(f"EGSU_DATABASE_URL has a bad port {port!r}")
        hosts.append(unquote(host))
        ports.append(port)
    if len(set(ports)) <= 1:
        return ",".join(hosts), ports[0] if ports else ""
    return ",".join(hosts), ",".join(port or "5432" for port in ports)


def postgres_url(database: dict, *, password: bool = True) -> str:
    """The URL of a PostgreSQL DATABASES entry again (every host, the libpq parameters): for the
    connections the System opens beside Django's (claims, backup). Without the password on request."""
    hosts = (database.get("HOST") or "127.0.0.1").split(",")
    ports = str(database.get("PORT") or "").split(",")
    ports = ports * len(hosts) if len(ports) == 1 else ports
    netloc = ",".join(
        (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
        for host, port in zip(hosts, ports, strict=True)
    )
    user = quote(database.get("USER") or "", safe="")
    secret = quote(database.get("PASSWORD") or "", safe="") if password else ""
    credentials = f"{user}:{secret}@" if user and secret else f"{user}@" if user else ""
    query = "&".join(
        f"{quote(k, safe='')}={quote(str(v), safe='')}"
        for k, v in (database.get("OPTIONS") or {}).items()
        if k not in _DJANGO_OPTIONS  # the connections beside Django's bind on the client
    )
    return urlunparse(
        ("postgresql", credentials + netloc, "/" + quote(database["NAME"], safe=""), "", query, "")
    )


JOURNAL_MIN_RETENTION_DAYS = 3 * 365 + 1  # INT-36: the journal keeps three years
AUDIT_MIN_RETENTION_DAYS = 366  # the audit trail keeps at least 12 months
EXPORTS_MIN_RETENTION_DAYS = 31  # INT-56: an archive of at least one month
AMI_BATCHES_MIN_RETENTION_DAYS = 366  # DIG-21: logs of what arrived kept at least 12 months
READINGS_MIN_RETENTION_DAYS = JOURNAL_MIN_RETENTION_DAYS  # a value outlives the journal that explains it
# Claims of ClickHouse writes (ADR 0013): a write younger than this never asks whether its claim was
# pruned (the fast path); 7 days leave a day of margin for clocks of different servers.
READINGS_CLAIMS_MIN_RETENTION_DAYS = 7
READINGS_CLAIMS_RETENTION_DAYS = 35  # default: a month of late values and corrections answered from claims


@dataclass(frozen=True)
class EmailSettings:
    """Where outgoing mail goes: the console (log) on the embedded default, else an SMTP server."""

    backend: str  # "console" or "smtp"
    host: str = ""
    port: int = 0
    username: str = ""
    password: str = ""
    use_tls: bool = False  # STARTTLS after connecting (smtp+tls://)
    use_ssl: bool = False  # TLS from the first byte (smtp+ssl://)
    timeout_s: float = 10.0

    def describe(self) -> dict:
        """For manifests and logs: never the password."""
        if self.backend == "console":
            return {"backend": "console"}
        security = "ssl" if self.use_ssl else "starttls" if self.use_tls else "none"
        return {"backend": "smtp", "host": self.host, "port": self.port, "security": security}


EMAIL_SCHEMES = {"smtp": (False, False, 25), "smtp+tls": (True, False, 587), "smtp+ssl": (False, True, 465)}


def email_from_url(url: str) -> EmailSettings:
    """``smtp://[user:password@]host[:port]`` (also ``smtp+tls``, ``smtp+ssl``), or ``console://``/empty."""
    if not url or url == "console://":
        return EmailSettings(backend="console")
    parsed = urlparse(url)
    if parsed.scheme not in EMAIL_SCHEMES:
        raise ConfigError(
            f"EGSU_EMAIL_URL has an unsupported scheme {parsed.scheme!r} "
            f"(use {', '.join(sorted(EMAIL_SCHEMES))} or console)"
        )
    if not parsed.hostname:
        raise ConfigError(f"EGSU_EMAIL_URL names no host: {url.split('@')[-1]!r}")
    try:
        port = parsed.port
    except ValueError as exc:
        raise ConfigError("EGSU_EMAIL_URL has an invalid port") from exc
    use_tls, use_ssl, default_port = EMAIL_SCHEMES[parsed.scheme]
    return EmailSettings(
        backend="smtp",
        host=parsed.hostname,
        port=port or default_port,
        username=unquote(parsed.username or ""),
        password=unquote(parsed.password or ""),
        use_tls=use_tls,
        use_ssl=use_ssl,
    )


@dataclass(frozen=True)
class Config:
    production: bool
    debug: bool
    var_dir: Path
    secret_key: str
    database: dict
    allowed_hosts: list[str]
    max_message_bytes: int = 15 * 1024 * 1024  # INT-07
    message_date_future_skew_s: int = 600
    journal_retention_days: int = JOURNAL_MIN_RETENTION_DAYS  # INT-36: three years, leap day included
    audit_retention_days: int = AUDIT_MIN_RETENTION_DAYS  # audit trail: at least 12 months
    email: EmailSettings = field(default_factory=lambda: email_from_url(""))
    email_from: str = "egsu@localhost"
    email_max_attempts: int = 12  # then the message is marked failed and shown to the operator
    email_retry_s: int = 60  # first retry after this; doubled each time, at most an hour
    jobs_heartbeat_s: float = 10.0  # a worker marks itself alive and extends its leases this often
    jobs_lease_s: float = 60.0  # a running job whose worker stopped heartbeating is retried after this
    jobs_poll_s: float = 1.0  # an idle worker looks for ready jobs this often
    # Signatures (issue 3). Empty trust roots outside production: the test PKI under var/pki.
    trust_roots: tuple[Path, ...] = ()
    trust_intermediates: tuple[Path, ...] = ()
    signing_key: Path | None = None  # the System's own key and certificate (App.1 §51)
    signing_cert: Path | None = None  # None with a PKCS#12 key store: the certificate is inside it
    signing_password: str | None = None  # of a PKCS#12 key store (EGSU_SIGNING_PASSWORD_FILE)
    # The test contour (App.1 §13): roots that test connected systems chain to, and the key their
    # answers are signed with. Empty with no EGSU_TRUST_ROOTS either: the stand's own test CA.
    test_trust_roots: tuple[Path, ...] = ()
    test_trust_intermediates: tuple[Path, ...] = ()
    test_signing_key: Path | None = None
    test_signing_cert: Path | None = None
    test_signing_password: str | None = None
    pki_mirrors: tuple[tuple[str, str], ...] = ()  # (URL prefix in certificates, local mirror)
    revocation_timeout_s: float = 5.0
    # Hosts whose OCSP/CRL addresses may be asked (besides EGSU_PKI_MIRRORS targets and, on the
    # embedded stand, its own test CA); ".example.kz" allows sub-domains (shep-notes §3).
    pki_allowed_hosts: tuple[str, ...] = (
        "ocsp.pki.gov.kz", "crl.pki.gov.kz", "pki.gov.kz", "crl.root.gov.kz", "root.gov.kz", "test.pki.gov.kz",
    )  # fmt: skip
    signature_budget_s: float = 10.0  # all revocation requests of one message together
    ocsp_retry_after_s: float = 30.0  # an OCSP responder that did not answer is left alone this long
    shep_max_password_failures: int = 5  # SCE002 in a row before the senderId is locked
    shep_max_signature_failures: int = 10  # refused signatures in a row before the password goes first
    shep_lock_minutes: int = 15
    # SIG-14: must a business-data signature carry a trusted timestamp? (verified whenever present)
    require_business_timestamp: bool = False
    allow_sha1: bool = True  # RSA-SHA1 / SHA-1 signatures and digests; False by default in production
    # NCA's responder is asked with a nonce; must its answer echo it? (decision 0009: NCANode accepts
    # an answer without one and refuses only a different one, so we do the same by default)
    ocsp_require_nonce: bool = False
    readings_backend: str = "sql"  # "sql" (embedded default) or "clickhouse" at national scale
    clickhouse_url: str = ""  # clickhouse://host:9000/db or chdb:///dir?database=db
    clickhouse_cluster: str = ""  # empty: one node; a cluster name or JSON of ClusterLayout fields
    # Where ClickHouse writes claim their values (ADR 0013): empty means beside the Django database
    # (the same PostgreSQL database, or a SQLite file next to the SQLite one).
    readings_claims_url: str = ""
    # Seconds a ClickHouse write's claimed values may wait before one flusher per server inserts them with
    # other writers' as one block (ADR 0013, "Deferred inserts"); 0: each write inserts its own and reads
    # show a value as soon as it is answered. At national scale 1 s: fewer, larger inserts.
    readings_flush_s: float = 0.0
    # The project's Mosquitto (issue 12 item 6): where `egsu mqtt acl` keeps its password file and ACL,
    # rewritten on every head-end change when set; and the consumer's own credentials there.
    mqtt_acl_dir: str = ""
    mqtt_username: str = ""
    mqtt_password: str = ""
    arrival_grace_minutes: int = 30  # monitoring: how late after its due time a slot still counts on time
    missing_data_alarm_minutes: int = (
        150  # INT-10: a slot missing this long past due is an alarm (checked every 15 min)
    )
    site_url: str = ""  # links in e-mails start with it (e.g. https://egsu.energo.gov.kz)
    # Weather provider (ANA-03): an https address with {lat} and {lon} answering as Open-Meteo's hourly
    # API does, and the regions to ask for (EGSU_WEATHER_REGIONS="Almaty=43.24:76.89;Astana=51.17:71.45").
    weather_url: str = ""
    weather_regions: dict = field(default_factory=dict)
    # Levels the worker forecasts on schedule (EGSU_FORECAST_LEVELS, comma-separated of nation, region,
    # subject, object, point); "point" is off by default: a model per meter is hours of CPU a day.
    forecast_levels: tuple = ("nation", "region", "subject", "object")
    metrics_token: str = ""  # bearer token a Prometheus server sends to /metrics (else an operator login)
    backup_dir: Path | None = None  # where the scheduled backup writes (EGSU_BACKUP_DIR; default var/backups)
    backup_keep: int = 7  # scheduled backups kept (the oldest beyond this are removed)
    backup_clickhouse: bool = True  # the scheduled backup copies ClickHouse rows (off: a national cluster)
    exports_retention_days: int = 90  # export files and their jobs
    ami_batches_retention_days: int = AMI_BATCHES_MIN_RETENTION_DAYS  # records of AMI batches and answers
    readings_retention_days: int = 0  # 0: readings are kept for ever (the operator's policy)
    readings_claims_retention_days: int = READINGS_CLAIMS_RETENTION_DAYS  # 0: claims kept for ever
    extra: dict = field(default_factory=dict)

    @property
    def test_pki_dir(self) -> Path:
        return self.var_dir / "pki"

    @property
    def uses_test_pki(self) -> bool:
        """True when no trust roots are configured: the embedded stand's test contour is its own test CA."""
        return not self.trust_roots and not self.test_trust_roots


def _secret_key(var_dir: Path, production: bool) -> str:
    key = os.environ.get("EGSU_SECRET_KEY")
    if key:
        return key
    if production:
        raise ConfigError("EGSU_SECRET_KEY must be set when EGSU_ENV=production")
    path = var_dir / "secret_key"
    if not path.exists():
        _create_secret_key(var_dir, path)
    return _read_key(path)


def _create_secret_key(var_dir: Path, path: Path) -> None:
    """Write a new key so that it appears whole or not at all: `egsu serve` starts its web server and its
    worker at once, and on a fresh var dir both come here. The first to link its key in wins; the other
    reads that key instead of failing, or of reading a file not yet written."""
    var_dir.mkdir(parents=True, exist_ok=True)
    fd, written = tempfile.mkstemp(dir=var_dir, prefix=".secret_key-")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(written, path)
        except FileExistsError:
            pass  # another process started at the same moment: its key is the key
        except OSError:  # only a refused link: a failed write (a full disk) is raised as it is
            _create_secret_key_in_place(path)  # a filesystem without hard links (vfat, some FUSE mounts)
    finally:
        os.unlink(written)


def _create_secret_key_in_place(path: Path) -> None:
    """The key written where it is read, for a filesystem that cannot link: the first process to create
    the file writes it; the others find it there and wait for its text (`_read_key`)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
        handle.flush()
        os.fsync(handle.fileno())


def _read_key(path: Path, wait_s: float = 5.0) -> str:
    """The key's text; on a filesystem that cannot link, another process may have created the file and
    not yet written it: wait for the text rather than take an empty key."""
    deadline = time.monotonic() + wait_s
    while not (key := path.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    if not key:
        raise ConfigError(f"{path} is empty: remove it, and a new key is made at the next start")
    return key


def _choice(name: str, allowed: set[str], default: str) -> str:
    value = os.environ.get(name, "") or default
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def _paths(name: str) -> tuple[Path, ...]:
    raw = os.environ.get(name, "")
    return tuple(Path(p).expanduser() for p in raw.replace(os.pathsep, ",").split(",") if p.strip())


def _mirrors(name: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in os.environ.get(name, "").split(","):
        if not item.strip():
            continue
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ConfigError(f"{name} must be FROM=TO pairs separated by commas, got {item!r}")
        pairs.append((source.strip(), target.strip()))
    return tuple(pairs)


def _weather_regions(name: str) -> dict[str, tuple[float, float]]:
    """REGION=LAT:LON;… → {region: (lat, lon)}; a malformed item is a clear error at start."""
    found = {}
    for item in filter(None, (part.strip() for part in os.environ.get(name, "").split(";"))):
        try:
            region, place = item.rsplit("=", 1)
            lat, lon = (float(x) for x in place.split(":"))
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not REGION=LAT:LON") from None
        found[region.strip()] = (lat, lon)
    return found


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return value


def _retention_days(name: str, minimum: int, what: str) -> int:
    days = _int(name, minimum)
    if days < minimum:
        raise ConfigError(f"{name} must be at least {minimum} days: {what}, {days} was asked")
    return days


def _claims_retention_days() -> int:
    """EGSU_READINGS_CLAIMS_RETENTION_DAYS: 35 unset, 0 keeps claims for ever, else at least the minimum."""
    days = _int("EGSU_READINGS_CLAIMS_RETENTION_DAYS", READINGS_CLAIMS_RETENTION_DAYS)
    if days and days < READINGS_CLAIMS_MIN_RETENTION_DAYS:
        raise ConfigError(
            f"EGSU_READINGS_CLAIMS_RETENTION_DAYS must be 0 or at least {READINGS_CLAIMS_MIN_RETENTION_DAYS} days:"
            f" younger claims are never checked against the store (ADR 0013), {days} was asked"
        )
    return days


def _flush_seconds() -> float:
    """EGSU_READINGS_FLUSH_S: 0 (unset) inserts each write at once; else 0.05–10 s between a server's flushes."""
    raw = os.environ.get("EGSU_READINGS_FLUSH_S", "").strip()
    try:
        seconds = float(raw or 0)
    except ValueError as exc:
        raise ConfigError(f"EGSU_READINGS_FLUSH_S must be a number of seconds, got {raw!r}") from exc
    if seconds == 0:
        return 0.0
    if not 0.05 <= seconds <= 10:
        raise ConfigError(
            f"EGSU_READINGS_FLUSH_S must be 0 or between 0.05 and 10 seconds (recovery takes what waits a"
            f" minute, ADR 0013), {raw!r} was asked"
        )
    return seconds


def _email(production: bool) -> tuple[EmailSettings, str]:
    url = os.environ.get("EGSU_EMAIL_URL", "")
    sender = os.environ.get("EGSU_EMAIL_FROM", "")
    if production and not url:
        raise ConfigError(
            "EGSU_EMAIL_URL must be set when EGSU_ENV=production (smtp://host:port, or console:// to log)"
        )
    email = email_from_url(url)
    if production and email.backend == "smtp" and not sender:
        raise ConfigError("EGSU_EMAIL_FROM must be set when EGSU_ENV=production and e-mail goes to SMTP")
    if sender and "@" not in sender:
        raise ConfigError(f"EGSU_EMAIL_FROM must be an e-mail address, got {sender!r}")
    return email, sender or "egsu@localhost"


PKCS12_SUFFIXES = (".p12", ".pfx")


def _signing(prefix: str) -> tuple[Path | None, Path | None, str | None]:
    """``{prefix}_KEY`` (PKCS#12, or PEM with ``{prefix}_CERT``) and the key store's password.

    The password comes from ``{prefix}_PASSWORD_FILE`` (preferred: nothing in the environment)
    or ``{prefix}_PASSWORD``; it is never logged.
    """
    key = os.environ.get(f"{prefix}_KEY") or None
    cert = os.environ.get(f"{prefix}_CERT") or None
    if cert and not key:
        raise ConfigError(f"{prefix}_CERT is set without {prefix}_KEY")
    if key and not cert and not key.lower().endswith(PKCS12_SUFFIXES):
        raise ConfigError(f"{prefix}_KEY is a PEM key: set {prefix}_CERT too (or use a .p12 key store)")
    password = None
    password_file = os.environ.get(f"{prefix}_PASSWORD_FILE")
    if password_file:
        try:
            password = Path(password_file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"{prefix}_PASSWORD_FILE cannot be read: {exc.strerror}") from exc
    elif os.environ.get(f"{prefix}_PASSWORD"):
        password = os.environ[f"{prefix}_PASSWORD"]
    return (Path(key) if key else None, Path(cert) if cert else None, password)


def _secret_text(name: str) -> str:
    """``NAME_FILE`` (preferred: nothing in the environment) or ``NAME``; empty when neither is set."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE cannot be read: {exc.strerror}") from exc
    return os.environ.get(name, "")


def load() -> Config:
    env = os.environ.get("EGSU_ENV", "embedded")
    if env not in {"embedded", "production", "test"}:
        raise ConfigError(f"EGSU_ENV must be embedded, test or production, got {env!r}")
    production = env == "production"
    default_var = BASE_DIR / "var"
    if env == "embedded" and os.environ.get("PYTEST_VERSION"):
        default_var = default_var / "test"  # a test run never touches the operator's data
    var_dir = Path(os.environ.get("EGSU_VAR_DIR", default_var)).resolve()
    db_url = os.environ.get("EGSU_DATABASE_URL")
    if not db_url:
        if production:
            raise ConfigError("EGSU_DATABASE_URL must be set when EGSU_ENV=production")
        db_url = "sqlite:///" + str(var_dir / "egsu.sqlite3")
    trust_roots = _paths("EGSU_TRUST_ROOTS")
    test_trust_roots = _paths("EGSU_TEST_TRUST_ROOTS")
    signing_key, signing_cert, signing_password = _signing("EGSU_SIGNING")
    test_key, test_cert, test_password = _signing("EGSU_TEST_SIGNING")
    if production and not trust_roots:
        raise ConfigError("EGSU_TRUST_ROOTS (the NCA root certificates) must be set when EGSU_ENV=production")
    if production and not signing_key:
        raise ConfigError(
            "EGSU_SIGNING_KEY (a PKCS#12 key store, or a PEM key with EGSU_SIGNING_CERT) must be set "
            "when EGSU_ENV=production"
        )
    if production and test_trust_roots and not test_key:
        raise ConfigError(
            "EGSU_TEST_SIGNING_KEY must be set when EGSU_TEST_TRUST_ROOTS is: test systems are answered "
            "with the test key"
        )
    if os.environ.get("EGSU_READINGS_BACKEND") == "clickhouse" and not os.environ.get("EGSU_CLICKHOUSE_URL"):
        raise ConfigError("EGSU_CLICKHOUSE_URL must be set when EGSU_READINGS_BACKEND=clickhouse")
    email, email_from = _email(production)
    heartbeat_s, lease_s = _float("EGSU_JOBS_HEARTBEAT_S", 10.0), _float("EGSU_JOBS_LEASE_S", 60.0)
    if lease_s < 2 * heartbeat_s:
        raise ConfigError(
            f"EGSU_JOBS_LEASE_S ({lease_s}) must be at least twice EGSU_JOBS_HEARTBEAT_S ({heartbeat_s}), "
            "or a live worker's job could be taken for a dead one's"
        )
    hosts = [
        h.strip()
        for h in os.environ.get("EGSU_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
        if h.strip()
    ]
    return Config(
        production=production,
        debug=_bool("EGSU_DEBUG", False),
        var_dir=var_dir,
        secret_key=_secret_key(var_dir, production),
        database=database_from_url(db_url, var_dir),
        allowed_hosts=hosts,
        max_message_bytes=_int("EGSU_MAX_MESSAGE_BYTES", 15 * 1024 * 1024),
        message_date_future_skew_s=_int("EGSU_MESSAGE_DATE_SKEW_S", 600),
        journal_retention_days=_retention_days(
            "EGSU_JOURNAL_RETENTION_DAYS",
            JOURNAL_MIN_RETENTION_DAYS,
            "the journal keeps three years (INT-36)",
        ),
        audit_retention_days=_retention_days(
            "EGSU_AUDIT_RETENTION_DAYS", AUDIT_MIN_RETENTION_DAYS, "the audit trail keeps 12 months"
        ),
        email=email,
        email_from=email_from,
        email_max_attempts=_int("EGSU_EMAIL_MAX_ATTEMPTS", 12),
        email_retry_s=_int("EGSU_EMAIL_RETRY_S", 60),
        jobs_heartbeat_s=heartbeat_s,
        jobs_lease_s=lease_s,
        jobs_poll_s=_float("EGSU_JOBS_POLL_S", 1.0),
        trust_roots=trust_roots,
        trust_intermediates=_paths("EGSU_TRUST_INTERMEDIATES"),
        signing_key=signing_key,
        signing_cert=signing_cert,
        signing_password=signing_password,
        test_trust_roots=test_trust_roots,
        test_trust_intermediates=_paths("EGSU_TEST_TRUST_INTERMEDIATES"),
        test_signing_key=test_key,
        test_signing_cert=test_cert,
        test_signing_password=test_password,
        pki_mirrors=_mirrors("EGSU_PKI_MIRRORS"),
        revocation_timeout_s=_float("EGSU_REVOCATION_TIMEOUT_S", 5.0),
        pki_allowed_hosts=_hosts("EGSU_PKI_ALLOWED_HOSTS", Config.pki_allowed_hosts),
        signature_budget_s=_float("EGSU_SIGNATURE_BUDGET_S", 10.0),
        ocsp_retry_after_s=_float("EGSU_OCSP_RETRY_AFTER_S", 30.0),
        shep_max_password_failures=_int("EGSU_SHEP_MAX_PASSWORD_FAILURES", 5),
        shep_max_signature_failures=_int("EGSU_SHEP_MAX_SIGNATURE_FAILURES", 10),
        shep_lock_minutes=_int("EGSU_SHEP_LOCK_MINUTES", 15),
        require_business_timestamp=_bool("EGSU_REQUIRE_BUSINESS_TIMESTAMP", False),
        allow_sha1=_bool("EGSU_ALLOW_SHA1", not production),
        ocsp_require_nonce=_bool("EGSU_OCSP_REQUIRE_NONCE", False),
        arrival_grace_minutes=_int("EGSU_ARRIVAL_GRACE_MINUTES", 30),
        missing_data_alarm_minutes=_int("EGSU_MISSING_DATA_ALARM_MINUTES", 150),
        site_url=os.environ.get("EGSU_SITE_URL", ""),
        readings_backend=_choice("EGSU_READINGS_BACKEND", {"sql", "clickhouse"}, "sql"),
        clickhouse_url=os.environ.get("EGSU_CLICKHOUSE_URL", ""),
        clickhouse_cluster=os.environ.get("EGSU_CLICKHOUSE_CLUSTER", ""),
        weather_url=os.environ.get("EGSU_WEATHER_URL", ""),
        weather_regions=_weather_regions("EGSU_WEATHER_REGIONS"),
        forecast_levels=tuple(
            level.strip()
            for level in os.environ.get("EGSU_FORECAST_LEVELS", "nation,region,subject,object").split(",")
            if level.strip()
        ),
        metrics_token=_secret_text("EGSU_METRICS_TOKEN"),
        backup_dir=Path(os.environ["EGSU_BACKUP_DIR"]).resolve()
        if os.environ.get("EGSU_BACKUP_DIR")
        else None,
        backup_keep=_int("EGSU_BACKUP_KEEP", 7),
        backup_clickhouse=_bool("EGSU_BACKUP_CLICKHOUSE", True),
        exports_retention_days=_retention_days(
            "EGSU_EXPORTS_RETENTION_DAYS",
            EXPORTS_MIN_RETENTION_DAYS,
            "exports are archived at least a month (INT-56)",
        )
        if os.environ.get("EGSU_EXPORTS_RETENTION_DAYS")
        else 90,
        ami_batches_retention_days=_retention_days(
            "EGSU_AMI_BATCHES_RETENTION_DAYS",
            AMI_BATCHES_MIN_RETENTION_DAYS,
            "logs are kept 12 months (DIG-21)",
        ),
        readings_retention_days=_retention_days(
            "EGSU_READINGS_RETENTION_DAYS",
            READINGS_MIN_RETENTION_DAYS,
            "values outlive the 3-year journal (INT-36)",
        )
        if _int("EGSU_READINGS_RETENTION_DAYS", 0)
        else 0,
        readings_claims_retention_days=_claims_retention_days(),
        readings_claims_url=os.environ.get("EGSU_READINGS_CLAIMS_URL", ""),
        readings_flush_s=_flush_seconds(),
        mqtt_acl_dir=os.environ.get("EGSU_MQTT_ACL_DIR", ""),
        mqtt_username=os.environ.get("EGSU_MQTT_USERNAME", ""),
        mqtt_password=os.environ.get("EGSU_MQTT_PASSWORD", ""),
    )
