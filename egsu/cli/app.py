"""Top-level commands: init, serve, demo, and the sub-command groups."""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

import typer
from django.conf import settings
from rich.console import Console

from egsu.cli import ami as ami_cli
from egsu.cli import audit as audit_cli
from egsu.cli import forecast as forecast_cli
from egsu.cli import jobs as jobs_cli
from egsu.cli import journal as journal_cli
from egsu.cli import mail as mail_cli
from egsu.cli import mqtt as mqtt_cli
from egsu.cli import ops as ops_cli
from egsu.cli import pki as pki_cli
from egsu.cli import readings as readings_cli
from egsu.cli import registry as registry_cli
from egsu.cli import weather as weather_cli

console = Console(stderr=True)
app = typer.Typer(help="EGSU — the Unified State System for Management of the FEC.", no_args_is_help=True)
app.add_typer(registry_cli.app, name="registry", help="The registry: subjects, facilities, devices, systems.")
app.add_typer(journal_cli.app, name="journal", help="The message journal: search, show, purge.")
app.add_typer(ami_cli.app, name="ami", help="AMI metering: MQTT intake, head-ends, verification.")
app.add_typer(audit_cli.app, name="audit", help="The audit trail: search, purge.")
app.add_typer(pki_cli.app, name="pki", help="Certificates: verify by hand, and the test PKI of the stand.")
app.add_typer(
    jobs_cli.app, name="jobs", help="Background jobs: list, show, retry; workers and periodic jobs."
)
app.add_typer(mail_cli.app, name="mail", help="Outgoing e-mail: the outbox, a test message.")
app.add_typer(mqtt_cli.app, name="mqtt", help="The MQTT broker: per head-end credentials and ACL.")
app.add_typer(readings_cli.app, name="readings", help="The readings store: claims of ClickHouse writes.")
app.command()(jobs_cli.worker)
app.command()(jobs_cli.scheduler)
app.command()(ops_cli.doctor)
app.command()(ops_cli.backup)
app.command()(ops_cli.restore)
app.add_typer(forecast_cli.app, name="forecast", help="Forecasts: check a model on your own data (backtest).")
app.add_typer(weather_cli.app, name="weather", help="Weather: import observations and forecasts per region.")


def prepare(*, quiet: bool = False) -> None:
    """Apply migrations, load the reference dictionaries, and create the first administrator."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from egsu.catalogs import compile_catalogs
    from egsu.points.services import ensure_points
    from egsu.registry.services import load_dictionaries

    settings.CONFIG.var_dir.mkdir(parents=True, exist_ok=True)
    compile_catalogs()
    call_command("migrate", interactive=False, verbosity=0)
    load_dictionaries()
    ensure_points()
    user_model = get_user_model()
    if not user_model.objects.filter(is_superuser=True).exists():
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser("admin", "", password)
        console.print(
            "[bold green]First start:[/] an administrator was created.\n"
            f"  log in at /cabinet/ (and /admin/) as [bold]admin[/] with password [bold]{password}[/]\n"
            "  (shown once; change it with `egsu set-password admin`)"
        )
    elif not quiet:
        console.print("Database ready (migrations applied, dictionaries loaded).")


@app.command()
def init() -> None:
    """Prepare the database without starting the server."""
    prepare()


@app.command("set-password")
def set_password(username: str) -> None:
    """Set a user's password (asks for it twice)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        console.print(f"[red]no user {username!r}[/]")
        raise typer.Exit(1)
    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        console.print("[red]" + " ".join(exc.messages) + "[/]")
        raise typer.Exit(1) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    console.print("password changed")


def _gunicorn_argv(host: str, port: int, workers: int, threads: int) -> list[str]:
    if threads <= 0:
        # SQLite has one writer lock: threads in a worker only queue on it (benchmarks/README.md).
        threads = 1 if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else 4
    # Prometheus' multiprocess mode: every gunicorn worker's counters in one directory per server
    # (egsu.ops.gunicorn cleans it at start); /metrics merges them. Not on the var/ volume: its files
    # are memory-mapped, and a full var/ would crash the workers with SIGBUS (the disk-full drill).
    import tempfile

    default = Path(tempfile.gettempdir()) / f"egsu-metrics-{os.getuid()}-{port}"
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(default))
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    return [
        sys.executable, "-m", "gunicorn", "egsu.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", "gthread" if threads > 1 else "sync",
        "--timeout", "60",
        "--access-logfile", "-",
        "--log-level", "warning",
        "--config", "python:egsu.ops.gunicorn",
    ]  # fmt: skip


def _gunicorn(host: str, port: int, workers: int, threads: int) -> None:
    args = _gunicorn_argv(host, port, workers, threads)
    sys.stdout.flush()
    os.execv(sys.executable, args)


def _with_worker(host: str, port: int, workers: int, threads: int) -> None:
    """The web server, one job worker that also schedules periodic jobs, under one supervisor."""
    from egsu.cli.processes import egsu_command, supervise

    status = supervise({
        "web server": _gunicorn_argv(host, port, workers, threads),
        "worker": egsu_command("worker", "--schedule"),
    })  # fmt: skip
    raise typer.Exit(status)


def _announce(base: str, worker: bool) -> None:
    console.print(
        f"EGSU is starting at [bold]{base}/[/]  (cabinet: {base}/cabinet/, admin: {base}/admin/, "
        f"gateway: {base}/shep/SyncChannel?wsdl)"
        + ("\n  with one job worker that also schedules periodic jobs; Ctrl-C stops both" if worker else "")
    )


@app.command()
def web(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(int(os.environ.get("PORT", "8000")), help="Port (PORT in the environment)."),
    workers: int = typer.Option(2, help="Web worker processes."),
    threads: int = typer.Option(0, help="Threads per web worker (0: 1 on SQLite, 4 on PostgreSQL)."),
) -> None:
    """Only the web server (gunicorn), for a production layout with `egsu worker`s of their own."""
    _announce(f"http://{host}:{port}", worker=False)
    _gunicorn(host, port, workers, threads)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(int(os.environ.get("PORT", "8000")), help="Port (PORT in the environment)."),
    workers: int = typer.Option(2, help="Web worker processes."),
    threads: int = typer.Option(0, help="Threads per web worker (0: 1 on SQLite, 4 on PostgreSQL)."),
    no_worker: bool = typer.Option(False, "--no-worker", help="Without the job worker and scheduler."),
) -> None:
    """Start the system after preparing the database: the web server, a job worker and the scheduler."""
    prepare(quiet=True)
    _announce(f"http://{host}:{port}", worker=not no_worker)
    if no_worker:
        _gunicorn(host, port, workers, threads)
    _with_worker(host, port, workers, threads)


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(int(os.environ.get("PORT", "8000")), help="Port (PORT in the environment)."),
    workers: int = typer.Option(2, help="Web worker processes."),
    threads: int = typer.Option(0, help="Threads per web worker (0: 1 on SQLite, 4 on PostgreSQL)."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Only load the registry and write the manifest."),
) -> None:
    """Load the demo registry, write var/demo/stand.json, and start the system (web, worker, scheduler)."""
    from egsu.alarms.demo import load_demo_alarms
    from egsu.ami.demo import load_demo_head_end
    from egsu.api.demo import load_demo_api
    from egsu.readings.demo import load_demo_readings
    from egsu.registry.demo import load_demo_registry, write_manifest
    from egsu.registry.models import Subject
    from egsu.reporting.demo import demo_reader
    from egsu.signatures.stand import equip

    prepare(quiet=True)
    manifest = load_demo_registry()
    written = load_demo_readings()
    reader = demo_reader()
    base = f"http://{host}:{port}"
    manifest = {"endpoint": f"{base}/shep/SyncChannel", "wsdl": f"{base}/shep/SyncChannel?wsdl", **manifest}
    manifest = equip(manifest, base_url=base)
    email = settings.CONFIG.email
    # host and port are named even on the console backend (null: nothing leaves the stand, the log shows it)
    manifest["email"] = {"host": email.host if email.backend == "smtp" else None,
                         "port": email.port if email.backend == "smtp" else None,
                         **email.describe(), "from": settings.CONFIG.email_from}  # fmt: skip
    manifest.update(load_demo_alarms(reader, base))
    utility = Subject.objects.get(bin=manifest["subjects"][0]["bin"])
    manifest["ami"] = load_demo_head_end(utility, base=base)
    other = Subject.objects.get(bin=manifest["subjects"][1]["bin"])
    manifest["api"] = load_demo_api(
        [utility, other], base=base, subscriber_account=(utility.bin, manifest["ami"]["meters"][0]["account"])
    )
    manifest["reports"] = {
        "subscriber": reader.email,
        "library": f"{base}/cabinet/reports/",
        "openData": f"{base}/open/",
    }
    path = settings.CONFIG.var_dir / "demo" / "stand.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(path, manifest)
    console.print(f"Demo registry loaded ({written} new daily values); manifest written to [bold]{path}[/]")
    console.print(f"Daily national reports are mailed to {reader.email} when the scheduler first runs")
    console.print(
        json.dumps({k: manifest[k] for k in ("endpoint", "wsdl", "serviceId", "senderId")}, indent=2)
    )
    if not no_serve:
        _announce(base, worker=True)
        _with_worker(host, port, workers, threads)


@app.command()
def sign(
    payload: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="XML whose root holds the records."
    ),
    p12: Path = typer.Option(
        None, "--p12", exists=True, dir_okay=False, help="NCA key store (PKCS#12, RSA or GOST)."
    ),
    p12_password_file: Path = typer.Option(
        None,
        "--p12-password-file",
        exists=True,
        dir_okay=False,
        help="File holding the key store's password (else $EGSU_P12_PASSWORD, else a prompt).",
    ),
    key: Path = typer.Option(
        None, "--key", exists=True, help="Signing key, PEM (RSA or GOST), instead of --p12."
    ),
    cert: Path = typer.Option(
        None, "--cert", exists=True, help="Its NCA certificate, PEM or DER (with --key)."
    ),
    sender_id: str = typer.Option(..., "--sender-id", help="The connected system's login."),
    password: str = typer.Option(
        ..., "--password", envvar="EGSU_SENDER_PASSWORD", prompt=True, hide_input=True, help="Its password."
    ),
    service_id: str = typer.Option("ISUN_Service2", "--service-id"),
    message_id: str = typer.Option("", "--message-id", help="Default: a new UUID."),
    business: bool = typer.Option(False, "--business", help="Also sign the business data (enveloped)."),
    out: Path = typer.Option(None, "--out", help="Write here instead of standard output."),
) -> None:
    """Build a SendMessage from a payload and sign it (transport, and business data with --business).

    The key comes from an NCA key store (--p12; its password from --p12-password-file, the
    EGSU_P12_PASSWORD environment variable or a hidden prompt, never from the command line) or
    from a PEM key and certificate (--key, --cert).
    """
    import uuid

    from egsu_core.pki.keys import load_identity
    from egsu_core.pki.pkcs12 import KeyStoreError
    from egsu_core.pki.sendmessage import signed_send_message
    from egsu_core.shep.xmlparse import parse_document

    if (p12 is None) == (key is None) or (key is not None and cert is None):
        console.print("[red]give either --p12 FILE, or --key FILE with --cert FILE[/]")
        raise typer.Exit(2)
    root = parse_document(payload.read_bytes())
    try:
        if p12 is not None:
            identity = load_identity(p12.read_bytes(), password=key_store_password(p12_password_file))
        else:
            identity = load_identity(key.read_bytes(), cert.read_bytes())
    except (KeyStoreError, ValueError) as exc:
        console.print(f"[red]cannot read the signing key: {exc}[/]")
        raise typer.Exit(2) from exc
    signed = signed_send_message(
        list(root),
        identity=identity,
        message_id=message_id or str(uuid.uuid4()),
        sender_id=sender_id,
        password=password,
        service_id=service_id,
        sign_business_data=business,
    )
    if out is None:
        sys.stdout.buffer.write(signed)
    else:
        out.write_bytes(signed)
        console.print(f"signed SendMessage written to {out}")


def key_store_password(password_file: Path | None) -> str:
    """A key store's password: the file, then $EGSU_P12_PASSWORD, then a hidden prompt."""
    import os

    if password_file is not None:
        return password_file.read_text(encoding="utf-8").rstrip("\r\n")
    if os.environ.get("EGSU_P12_PASSWORD"):
        return os.environ["EGSU_P12_PASSWORD"]
    return typer.prompt("Key store password", hide_input=True)


@app.command()
def version() -> None:
    """Print the version."""
    from egsu import __version__

    typer.echo(__version__)
