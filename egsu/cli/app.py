"""Top-level commands: init, serve, demo, and the sub-command groups."""

from __future__ import annotations

import json
import os
import secrets
import sys

import typer
from django.conf import settings
from rich.console import Console

from egsu.cli import journal as journal_cli
from egsu.cli import pki as pki_cli
from egsu.cli import registry as registry_cli

console = Console(stderr=True)
app = typer.Typer(help="EGSU — the Unified State System for Management of the FEC.", no_args_is_help=True)
app.add_typer(registry_cli.app, name="registry", help="The registry: subjects, facilities, devices, systems.")
app.add_typer(journal_cli.app, name="journal", help="The message journal: search, show, purge.")
app.add_typer(pki_cli.app, name="pki", help="Certificates: verify by hand, and the test PKI of the stand.")


def prepare(*, quiet: bool = False) -> None:
    """Apply migrations, load the reference dictionaries, and create the first administrator."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from egsu.registry.services import load_dictionaries

    settings.CONFIG.var_dir.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    load_dictionaries()
    user_model = get_user_model()
    if not user_model.objects.filter(is_superuser=True).exists():
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser("admin", "", password)
        console.print(
            "[bold green]First start:[/] an administrator was created.\n"
            f"  log in at /admin/ as [bold]admin[/] with password [bold]{password}[/]\n"
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


def _gunicorn(host: str, port: int, workers: int, threads: int) -> None:
    if threads <= 0:
        # SQLite has one writer lock: threads in a worker only queue on it (benchmarks/README.md).
        threads = 1 if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else 4
    args = [
        sys.executable, "-m", "gunicorn", "egsu.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", "gthread" if threads > 1 else "sync",
        "--timeout", "60",
        "--access-logfile", "-",
        "--log-level", "warning",
    ]  # fmt: skip
    sys.stdout.flush()
    os.execv(sys.executable, args)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(int(os.environ.get("PORT", "8000")), help="Port (PORT in the environment)."),
    workers: int = typer.Option(2, help="Worker processes."),
    threads: int = typer.Option(0, help="Threads per worker (0: 1 on SQLite, 4 on PostgreSQL)."),
) -> None:
    """Start the system (gunicorn) after preparing the database."""
    prepare(quiet=True)
    base = f"http://{host}:{port}"
    console.print(
        f"EGSU is starting at [bold]{base}/[/]  (admin: {base}/admin/, gateway: {base}/shep/SyncChannel?wsdl)"
    )
    _gunicorn(host, port, workers, threads)


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(int(os.environ.get("PORT", "8000")), help="Port (PORT in the environment)."),
    workers: int = typer.Option(2, help="Worker processes."),
    threads: int = typer.Option(0, help="Threads per worker (0: 1 on SQLite, 4 on PostgreSQL)."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Only load the registry and write the manifest."),
) -> None:
    """Load the demo registry, write var/demo/stand.json, and start the system."""
    from egsu.registry.demo import load_demo_registry, write_manifest

    prepare(quiet=True)
    manifest = load_demo_registry()
    base = f"http://{host}:{port}"
    manifest = {"endpoint": f"{base}/shep/SyncChannel", "wsdl": f"{base}/shep/SyncChannel?wsdl", **manifest}
    path = settings.CONFIG.var_dir / "demo" / "stand.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(path, manifest)
    console.print(f"Demo registry loaded; manifest written to [bold]{path}[/]")
    console.print(
        json.dumps({k: manifest[k] for k in ("endpoint", "wsdl", "serviceId", "senderId")}, indent=2)
    )
    if not no_serve:
        _gunicorn(host, port, workers, threads)


@app.command()
def version() -> None:
    """Print the version."""
    from egsu import __version__

    typer.echo(__version__)
