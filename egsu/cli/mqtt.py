"""`egsu mqtt`: the project's Mosquitto — credentials and ACL from the registry, and the broker itself.

Django is set up by the caller (egsu.cli) before this module is imported.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import typer

app = typer.Typer(help="The MQTT broker: per head-end credentials and ACL.", no_args_is_help=True)


@app.command()
def acl(
    write: Path = typer.Option(..., "--write", help="Folder for `passwords` and `acl`."),
    username: str = typer.Option("", envvar="EGSU_MQTT_USERNAME", help="The consumer's username."),
    password: str = typer.Option(
        "", envvar="EGSU_MQTT_PASSWORD", help="Its password (from the environment)."
    ),
) -> None:
    """Write the broker's password file and ACL from the head-end registry, and reload the project's
    broker of that folder (SIGHUP). Each head-end may use only its own topics."""
    from egsu.ami import broker

    count = broker.write_files(write, consumer=username or None, consumer_password=password or None)
    reloaded = broker.reload(write)
    typer.echo(f"{count} head-ends written to {write}" + ("; broker reloaded" if reloaded else ""))


@app.command("broker")
def run_broker(
    directory: Path = typer.Option(
        ..., "--dir", envvar="EGSU_MQTT_ACL_DIR", help="Its files and persistence."
    ),
    port: int = typer.Option(1883, envvar="EGSU_MQTT_PORT"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    username: str = typer.Option("", envvar="EGSU_MQTT_USERNAME", help="The consumer's username."),
    password: str = typer.Option("", envvar="EGSU_MQTT_PASSWORD"),
    tls_cert_file: str | None = typer.Option(None, envvar="EGSU_MQTT_BROKER_CERT_FILE"),
    tls_key_file: str | None = typer.Option(None, envvar="EGSU_MQTT_BROKER_KEY_FILE"),
    tls_ca_file: str | None = typer.Option(None, envvar="EGSU_MQTT_BROKER_CA_FILE"),
) -> None:
    """Run Mosquitto with credentials and ACL from the registry (this process becomes the broker, so
    its pid in broker.pid is what a head-end change signals to reload)."""
    from egsu.ami import broker

    executable = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    broker.write_files(directory, consumer=username or None, consumer_password=password or None)
    config = directory / broker.CONFIG
    config.write_text(
        broker.config_text(
            directory,
            port,
            host=host,
            tls_cert_file=tls_cert_file,
            tls_key_file=tls_key_file,
            tls_ca_file=tls_ca_file,
        )
    )
    (directory / broker.PID).write_text(str(os.getpid()))
    os.execv(executable, [executable, "-c", str(config)])
