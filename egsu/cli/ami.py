"""`egsu ami`: the MQTT consumer, head-ends and their tokens, verification warnings.

Django is set up by the caller (egsu.cli) before this module is imported.
"""

from __future__ import annotations

import gc
import logging
import signal

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="AMI metering: MQTT intake, head-ends, verification warnings.", no_args_is_help=True)


def _console() -> Console:
    return Console(width=200, highlight=False, soft_wrap=True)


@app.command()
def mqtt(
    host: str = typer.Option("127.0.0.1", envvar="EGSU_MQTT_HOST", help="Broker host."),
    port: int = typer.Option(1883, envvar="EGSU_MQTT_PORT", help="Broker port (8883 for TLS, usually)."),
    client_id: str = typer.Option(
        "",
        envvar="EGSU_MQTT_CLIENT_ID",
        help="Default: egsu-ami-<host>-<slot>, the lowest slot no running consumer here holds.",
    ),
    group: str = typer.Option(
        "egsu-ami", envvar="EGSU_MQTT_GROUP", help="Shared-subscription group: its consumers share the load."
    ),
    username: str | None = typer.Option(None, envvar="EGSU_MQTT_USERNAME", help="The consumer's own."),
    password: str | None = typer.Option(None, envvar="EGSU_MQTT_PASSWORD"),
    tls: bool = typer.Option(False, envvar="EGSU_MQTT_TLS", help="Connect over TLS."),
    ca_file: str | None = typer.Option(
        None, envvar="EGSU_MQTT_CA_FILE", help="CA certificates for the broker (default: the system's)."
    ),
    cert_file: str | None = typer.Option(None, envvar="EGSU_MQTT_CERT_FILE", help="Client certificate."),
    key_file: str | None = typer.Option(None, envvar="EGSU_MQTT_KEY_FILE", help="Its private key."),
    slot_dir: str | None = typer.Option(None, envvar="EGSU_MQTT_SLOT_DIR", help="Where slot locks live."),
) -> None:
    """Consume batches from $share/<group>/egsu/ami/v1/+/batches until interrupted (MQTT 5, QoS 1,
    acked after commit). Start as many as the load needs; each takes an id of its own."""
    from egsu.ami.mqtt import AmiConsumer, BrokerSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    consumer = AmiConsumer(
        BrokerSettings(
            host=host,
            port=port,
            client_id=client_id or None,
            group=group,
            username=username,
            password=password,
            tls=tls or bool(ca_file),
            tls_ca_file=ca_file,
            tls_cert_file=cert_file,
            tls_key_file=key_file,
            slot_dir=slot_dir,
        )
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: consumer.stop())
    _console().print(
        f"consuming $share/{group}/egsu/ami/v1/+/batches on {host}:{port} as {consumer.client_id}"
    )
    gc.freeze()  # long-lived startup objects out of the collector's full passes (as egsu/wsgi.py)
    consumer.run()


@app.command("add-head-end")
def add_head_end(
    name: str,
    subject_bin: str = typer.Option(..., "--subject", help="BIN of the utility."),
    mqtt_username: str = typer.Option("", help="Defaults to the name."),
) -> None:
    """Register a head-end system and print its bearer token (shown once)."""
    from egsu.ami import services
    from egsu.registry.models import Subject

    subject = Subject.objects.filter(bin=subject_bin).first()
    if subject is None:
        _console().print(f"[red]no subject with BIN {subject_bin}[/]")
        raise typer.Exit(1)
    head_end, token = services.create_head_end(name, subject, mqtt_username=mqtt_username)
    _console().print(f"head-end {head_end.name} registered; bearer token (shown once):")
    print(token)


@app.command("rotate-token")
def rotate_token(name: str) -> None:
    """Issue a new bearer token for a head-end; the old one stops working."""
    from egsu.ami import services
    from egsu.ami.models import HeadEndSystem

    head_end = HeadEndSystem.objects.filter(name=name).first()
    if head_end is None:
        _console().print(f"[red]no head-end {name!r}[/]")
        raise typer.Exit(1)
    print(services.rotate_token(head_end))


@app.command("verification-due")
def verification_due(
    days: int = typer.Option(30, min=0, help="Expiring within this many days."),
    overdue: bool = typer.Option(False, help="Include meters whose verification has lapsed."),
    limit: int = typer.Option(1000, min=1),
) -> None:
    """Meters whose verification (поверка) expires soon (AMI-47)."""
    from egsu.ami import services

    table = Table("due", "serial", "type", "model", "object", "account")
    meters = services.verification_due(days, include_overdue=overdue)
    for meter in meters[:limit]:
        table.add_row(
            meter.verification_due.isoformat(), meter.serial_number, meter.meter_type, meter.model,
            meter.metering_object.code, meter.account,
        )  # fmt: skip
    _console().print(table)
