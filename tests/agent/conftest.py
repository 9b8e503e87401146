"""Shared setup for the agent's tests: configuration files, a signing identity, a fake System, the demo stand."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from egsu_agent.delivery import UNAVAILABLE, Outcome
from tests.stand import running_stand

ROOT = Path(__file__).resolve().parents[2]
EGSU = [sys.executable, "-c", "from egsu.cli import main; main()"]


# ---------------------------------------------------------------- TOML


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return json.dumps(str(value))
    return json.dumps(value, ensure_ascii=False)


def to_toml(data: dict, prefix: str = "") -> str:
    """A small TOML writer for the test configurations (scalars, lists of scalars, tables, arrays of tables)."""
    lines, nested = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            nested.append((f"[{prefix}{key}]", value, f"{prefix}{key}."))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                nested.append((f"[[{prefix}{key}]]", item, f"{prefix}{key}."))
        elif isinstance(value, list):
            lines.append(f"{key} = [{', '.join(_value(v) for v in value)}]")
        else:
            lines.append(f"{key} = {_value(value)}")
    text = "\n".join(lines) + "\n"
    for header, table, sub in nested:
        text += f"\n{header}\n" + to_toml(table, sub)
    return text


def write_config(path: Path, data: dict) -> Path:
    path.write_text(to_toml(data), "utf-8")
    return path


# ---------------------------------------------------------------- signing material


@pytest.fixture(scope="session")
def key_and_cert(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed RSA identity: enough for envelopes a fake System never verifies."""
    folder = tmp_path_factory.mktemp("identity")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agent test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / "sign.key", folder / "sign.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def base_config(tmp_path: Path, key_and_cert, **sections) -> dict:
    """A valid configuration: one folder source and one tank (table 1.2), overridable per section."""
    key, cert = key_and_cert
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    data = {
        "agent": {"database": str(tmp_path / "agent.sqlite3"), "decimals": 3, "log_format": "json"},
        "system": {
            "wsdl": "http://127.0.0.1:9/shep/SyncChannel?wsdl",
            "sender_id": "demo-isun",
            "password": "secret",
            "sign_key": str(key),
            "sign_cert": str(cert),
        },
        "schedule": {"first_day": dt.date(2026, 3, 10), "poll_seconds": 600},
        "sources": [{"name": "exports", "type": "folder", "path": str(drop)}],
        "devices": [
            {
                "object_id": "407004",
                "kind": "1.2",
                "device": "2",
                "device_type": 1,
                "operation_type": 7,
                "product_type": 1,
                "quantities": {
                    "tankLevel": {"tag": "T1.level", "unit": "m"},
                    "volume": {"tag": "T1.volume", "unit": "m3"},
                },
            }
        ],
    }
    data.update(sections)
    return data


# ---------------------------------------------------------------- a fake System


def message_id_of(envelope: bytes) -> str:
    return etree.fromstring(envelope).findtext(".//requestInfo/messageId")


class FakeSystem:
    """Answers like the System (SCSS001) or fails like a dead link; remembers every post."""

    def __init__(self) -> None:
        self.down = False
        self.posts: list[tuple[str, bytes]] = []
        self.answer = Outcome("delivered", "SCSS001", "Message has been processed successfully")

    def post(self, envelope: bytes) -> Outcome:
        self.posts.append((message_id_of(envelope), envelope))
        if self.down:
            return Outcome("failed", UNAVAILABLE, "ConnectionError: refused")
        return self.answer


# ---------------------------------------------------------------- the demo stand (as tests/cli/test_stand.py runs it)


@pytest.fixture(scope="session")
def stand(tmp_path_factory):
    """`egsu demo --no-serve` then `egsu serve` in subprocesses on their own var dir and port."""
    var = tmp_path_factory.mktemp("agent-stand")
    with running_stand(var, threads=4) as manifest:
        yield var, manifest
