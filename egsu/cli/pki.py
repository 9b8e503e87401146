"""`egsu pki …`: the test CA for the stand, and checking a certificate or CRL by hand.

``verify`` is what an operator runs before registering a subject's certificate
and what re-verifying an archived document as of its signing date needs. It
needs no database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from egsu_core.clock import ASTANA, utcnow
from egsu_core.pki.certs import CertificateError, load_certificates, load_crl
from egsu_core.pki.path import Purpose, ValidationResult, validate, validate_crl
from egsu_core.pki.revocation import RevocationChecker
from egsu_core.pki.trust import TrustStore

app = typer.Typer(help="Certificates: the test CA, and checking certificates and CRLs.", no_args_is_help=True)


class _Out:
    """A console made at print time, so the terminal width (COLUMNS) of the running command applies."""

    def print(self, *args, **kwargs) -> None:
        Console().print(*args, **kwargs)


console = _Out()


def parse_moment(text: str | None) -> datetime:
    """ISO date or date-time; without an offset it is Astana time; a bare date means noon there."""
    if not text:
        return utcnow()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(12, 0), tzinfo=ASTANA)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO date or date-time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=ASTANA)


def _open_ca(directory: Path):
    from egsu_core.pki.testca import TestCA

    if not (directory / "state.json").exists():
        console.print(f"[red]{directory} holds no test CA; run `egsu pki init-test-ca {directory}` first[/]")
        raise typer.Exit(2)
    return TestCA.load(directory)


@app.command("init-test-ca")
def init_test_ca(
    directory: Path = typer.Argument(..., help="Where keys, certificates and state are kept."),
    base_url: str = typer.Option(
        ..., "--base-url", help="Where serve-test-ca will be reachable (OCSP, CRL, AIA)."
    ),
    key_type: str = typer.Option(
        "rsa", "--key-type", help="rsa, gost2004 (GOST 34.310-2004) or gost2015 (GOST 2015-512)."
    ),
) -> None:
    """Create a test root and intermediate CA with an OCSP responder (test stand only)."""
    from egsu_core.pki.testca import KEY_TYPES, TestCA

    if key_type not in KEY_TYPES:
        console.print(f"[red]--key-type must be one of {', '.join(KEY_TYPES)}[/]")
        raise typer.Exit(2)
    try:
        ca = TestCA.create(directory, base_url=base_url, key_type=key_type)
    except FileExistsError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"{key_type} test CA created in [bold]{directory}[/]; trust roots: {ca.chain_path}")


@app.command()
def issue(
    directory: Path = typer.Argument(..., help="The test CA directory."),
    bin: str = typer.Option(None, "--bin", help="Subject BIN (12 digits)."),
    org: str = typer.Option("TEST LLP", "--org", help="Organisation name (O=)."),
    person: str = typer.Option("TESTOV TEST", "--person", help="Surname, name [, patronymic] of the head."),
    iin: str = typer.Option("123456789011", "--iin", help="The head's IIN (12 digits)."),
    purpose: Purpose = typer.Option(Purpose.SIGN, "--purpose", help="sign or auth."),
    system: str = typer.Option(
        None, "--system", help="Issue the System's own signing certificate with this name."
    ),
    days: int = typer.Option(365, "--days", help="Validity in days."),
    p12_password_file: Path = typer.Option(
        None,
        "--p12-password-file",
        exists=True,
        dir_okay=False,
        help="Also write a PKCS#12 key store (as NCA issues) protected by the password in this file.",
    ),
) -> None:
    """Issue a legal-entity certificate shaped like NCA's, or the System's certificate."""
    from egsu_core.clock import timedelta

    ca = _open_ca(directory)
    not_after = utcnow() + timedelta(days=days)
    if system:
        issued = ca.issue_system(system, bin=bin, not_after=not_after)
    elif bin:
        issued = ca.issue_subject(bin, org, person, iin, purpose.value, not_after=not_after)
    else:
        console.print("[red]give --bin for a subject certificate or --system for the System's[/]")
        raise typer.Exit(2)
    console.print(f"serial {issued.serial:x}\ncertificate {issued.cert_path}\nkey {issued.key_path}")
    if p12_password_file is not None:
        password = p12_password_file.read_text(encoding="utf-8").rstrip("\r\n")
        console.print(f"key store {issued.write_p12(password)}")


@app.command()
def revoke(
    directory: Path = typer.Argument(..., help="The test CA directory."),
    serial: str = typer.Argument(..., help="Serial number in hex."),
    reason: str = typer.Option("keyCompromise", "--reason", help="RFC 5280 reason name."),
    at: str = typer.Option(None, "--at", help="Revocation date (default now)."),
) -> None:
    """Revoke a certificate of the test CA."""
    ca = _open_ca(directory)
    ca.revoke(int(serial, 16), reason, parse_moment(at))
    console.print(f"revoked {serial}; publish with `egsu pki crl {directory}` (OCSP answers at once)")


@app.command()
def crl(
    directory: Path = typer.Argument(..., help="The test CA directory."),
    delta: bool = typer.Option(False, "--delta", help="A delta CRL over the last full CRL."),
    out: Path = typer.Option(None, "--out", help="Also write the DER CRL here."),
) -> None:
    """Publish a new CRL (or delta CRL) of the test CA."""
    ca = _open_ca(directory)
    der = ca.crl(delta=delta)
    if out:
        out.write_bytes(der)
    console.print(f"published {'delta ' if delta else ''}CRL ({len(der)} bytes)")


@app.command("serve-test-ca")
def serve_test_ca(
    directory: Path = typer.Argument(..., help="The test CA directory."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8070, "--port"),
) -> None:
    """Answer OCSP, CRL and CA-certificate requests until interrupted."""
    from egsu_core.pki.testca import TestCAServer

    ca = _open_ca(directory)
    server = TestCAServer(ca, host, port)
    console.print(f"test CA at {server.url} (base URL in certificates: {ca.base_url})")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _render(result: ValidationResult, title: str) -> None:
    table = Table(title=title, show_lines=False)
    table.add_column("check")
    table.add_column("verdict")
    table.add_column("detail", overflow="fold")
    for check in result.checks:
        verdict = (
            "[green]ok[/]"
            if check.ok
            else ("[yellow]not current[/]" if check.not_current else "[red]FAILED[/]")
        )
        table.add_row(check.name, verdict, check.detail)
    console.print(table)
    colour = {"valid": "green", "not_current": "yellow"}.get(result.status, "red")
    console.print(f"[bold {colour}]{result.status.upper()}[/] as of {result.checked_at.isoformat()}")


@app.command()
def verify(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Certificate or CRL, DER or PEM."),
    trust: list[Path] = typer.Option(
        ..., "--trust", help="Trusted root(s): PEM/DER file or directory; repeatable."
    ),
    intermediate: list[Path] = typer.Option([], "--intermediate", help="Known intermediate CA certificates."),
    crl_files: list[Path] = typer.Option(
        [], "--crl", help="Check revocation against these CRLs, not the network."
    ),
    at: str = typer.Option(
        None, "--at", help="As of this date/time (ISO; Astana time unless an offset is given)."
    ),
    purpose: Purpose = typer.Option(Purpose.SIGN, "--purpose", help="sign or auth (SIG-11)."),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds to wait for OCSP/CRL servers."),
    mirror: list[str] = typer.Option(
        [], "--mirror", help="FROM=TO: fetch URLs starting with FROM from TO instead."
    ),
) -> None:
    """Check a certificate or a CRL and print every check; exit 0 only when valid."""
    moment = parse_moment(at).astimezone(UTC)
    try:
        store = TrustStore.from_paths(trust, intermediate)
        data = file.read_bytes()
        crls = [load_crl(p.read_bytes()) for p in crl_files]
    except (OSError, CertificateError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    try:
        certs = load_certificates(data)
    except CertificateError:
        certs = []
    if certs:
        leaf, *extra = certs
        rewrites = dict(item.split("=", 1) for item in mirror if "=" in item)
        checker = RevocationChecker(crls=crls, timeout=timeout, url_rewrites=rewrites)
        result = validate(
            leaf,
            trust=store,
            at=moment,
            purpose=purpose,
            revocation=checker,
            intermediates=(*extra, *store.intermediates),
        )
        _render(result, f"certificate {leaf.subject}")
    else:
        try:
            revocation_list = load_crl(data)
        except CertificateError as exc:
            console.print(f"[red]{file} is neither a certificate nor a CRL: {exc}[/]")
            raise typer.Exit(2) from exc
        result = validate_crl(revocation_list, trust=store, at=moment)
        _render(result, f"CRL of {revocation_list.issuer}")
    raise typer.Exit(0 if result.valid else 1)


@app.command("verify-message")
def verify_message(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A signed SendMessage (SOAP XML)."),
    trust: list[Path] = typer.Option(
        ..., "--trust", help="Trusted root(s): PEM/DER file or directory; repeatable."
    ),
    intermediate: list[Path] = typer.Option([], "--intermediate", help="Known intermediate CA certificates."),
    crl_files: list[Path] = typer.Option([], "--crl", help="Check revocation against these CRLs."),
    at: str = typer.Option(
        None, "--at", help="As of this date/time (ISO; Astana time unless an offset is given)."
    ),
    purpose: Purpose = typer.Option(Purpose.SIGN, "--purpose", help="sign or auth (SIG-11)."),
    no_revocation: bool = typer.Option(
        False, "--no-revocation", help="Do not check revocation (an archived message, no CRL at hand)."
    ),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds to wait for OCSP/CRL servers."),
    mirror: list[str] = typer.Option([], "--mirror", help="FROM=TO: fetch URLs starting with FROM from TO."),
) -> None:
    """Verify a signed SendMessage: the signature(s), then the signer's chain as of --at; print the verdict.

    Exit 0 when every signature and certificate is valid, 1 when not, 2 when the input cannot be read.
    """
    from egsu_core.pki.path import CertificatePolicy
    from egsu_core.pki.wsse import verify_transport
    from egsu_core.pki.xmldsig import find_business_signature, verify_enveloped
    from egsu_core.shep.errors import GatewayError
    from egsu_core.shep.xmlparse import parse_document

    moment = parse_moment(at).astimezone(UTC)
    try:
        store = TrustStore.from_paths(trust, intermediate)
        crls = [load_crl(p.read_bytes()) for p in crl_files]
        envelope = parse_document(file.read_bytes())
    except (OSError, CertificateError, GatewayError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc

    def lookup(issuer: str, serial: int) -> bytes | None:
        found = [c for c in store.all() if c.serial == serial and c.issuer == issuer]
        return found[0].der if found else None

    signatures = []
    try:
        transport = verify_transport(envelope, certificate_lookup=lookup)
        signatures.append(("transport", transport.signature_method, transport.certificate_der))
        data = envelope.find(".//requestData/data")
        business_root = find_business_signature(data) if data is not None else None
        if business_root is not None:
            business = verify_enveloped(business_root)
            signatures.append(("business data", business.signature_method, business.certificate_der))
    except GatewayError as exc:
        console.print(f"[bold red]INVALID[/]: {exc.code} {exc.message}")
        raise typer.Exit(1) from exc
    rewrites = dict(item.split("=", 1) for item in mirror if "=" in item)
    policy = CertificatePolicy(check_revocation=not no_revocation)
    valid = True
    from egsu_core.pki import algorithms
    from egsu_core.pki.certs import load_certificate

    for what, method, der in signatures:
        cert = load_certificate(der)
        console.print(f"[bold]{what} signature[/]: {algorithms.signature_by_uri(method).name}, verified")
        console.print(
            f"  signer: {cert.subject} (serial {cert.serial:x}; BIN {cert.subject_bin}; IIN {cert.subject_iin})"
        )
        checker = RevocationChecker(crls=crls, timeout=timeout, url_rewrites=rewrites)
        result = validate(
            cert, trust=store, at=moment, purpose=purpose, policy=policy, revocation=checker,
            intermediates=store.intermediates,
        )  # fmt: skip
        console.print("  chain: " + " → ".join(c.common_name for c in result.chain))
        _render(result, f"{what}: certificate {cert.common_name}")
        valid = valid and result.valid
    raise typer.Exit(0 if valid else 1)


@app.command("verify-document")
def verify_document(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A signed decision PDF, or a signed step XML."
    ),
    trust: list[Path] = typer.Option(
        ..., "--trust", help="Trusted root(s): PEM/DER file or directory; repeatable."
    ),
    intermediate: list[Path] = typer.Option([], "--intermediate", help="Known intermediate CA certificates."),
    crl_files: list[Path] = typer.Option([], "--crl", help="Check revocation against these CRLs."),
    at: str = typer.Option(
        None, "--at", help="As of this date/time (ISO; Astana time unless an offset is given)."
    ),
    no_revocation: bool = typer.Option(
        False, "--no-revocation", help="Do not check revocation (an archived document, no CRL at hand)."
    ),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds to wait for OCSP/CRL servers."),
    mirror: list[str] = typer.Option([], "--mirror", help="FROM=TO: fetch URLs starting with FROM from TO."),
) -> None:
    """Verify a signed scheme decision (PDF with its attached signed statement) or a signed workflow step.

    Checks the XML signature, that the statement covers the PDF's bytes, then the signer's chain as of
    --at (default: the signing time stated). Exit 0 when valid, 1 when not, 2 when unreadable.
    """
    from lxml import etree

    from egsu.schemes import signing
    from egsu_core.pki import algorithms
    from egsu_core.pki.certs import load_certificate
    from egsu_core.pki.path import CertificatePolicy
    from egsu_core.shep.errors import GatewayError

    try:
        store = TrustStore.from_paths(trust, intermediate)
        crls = [load_crl(p.read_bytes()) for p in crl_files]
        data = file.read_bytes()
    except (OSError, CertificateError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    signed: list[tuple[str, object, dict]] = []
    try:
        if data.startswith(b"%PDF-"):
            for name in signing.signature_names(data) or [signing.ATTACHMENT]:
                verdict = signing.verify_document(data, name=name)
                signed.append((name, verdict.signature, verdict.fields))
                console.print(
                    f"[bold]{name}[/]: covers {verdict.signed_length} of {verdict.total_length} bytes "
                    f"(the rest are the attached signatures), SHA-256 {verdict.fields['documentSha256']}"
                )
        else:
            signature, fields = signing.verify(data)
            signed.append((file.name, signature, fields))
    except (signing.DocumentSignatureError, GatewayError, etree.XMLSyntaxError, ValueError) as exc:
        console.print(f"[bold red]INVALID[/]: {exc}")
        raise typer.Exit(1) from exc
    rewrites = dict(item.split("=", 1) for item in mirror if "=" in item)
    valid = True
    for _name, signature, fields in signed:
        cert = load_certificate(signature.certificate_der)
        console.print(
            f"[bold]signature[/]: {algorithms.signature_by_uri(signature.signature_method).name}, verified"
        )
        console.print(
            f"  signer: {cert.subject} (serial {cert.serial:x}; BIN {cert.subject_bin}; IIN {cert.subject_iin})"
        )
        for key in (
            "kind",
            "action",
            "decision",
            "subjectBin",
            "objectId",
            "login",
            "version",
            "at",
            "reasons",
        ):
            if fields.get(key):
                console.print(f"  {key}: {fields[key]}")
        moment = parse_moment(at or fields.get("at")).astimezone(UTC)
        checker = RevocationChecker(crls=crls, timeout=timeout, url_rewrites=rewrites)
        result = validate(
            cert, trust=store, at=moment, policy=CertificatePolicy(check_revocation=not no_revocation),
            revocation=checker, intermediates=store.intermediates,
        )  # fmt: skip
        console.print("  chain: " + " → ".join(c.common_name for c in result.chain))
        _render(result, f"certificate {cert.common_name}")
        valid = valid and result.valid
    raise typer.Exit(0 if valid else 1)
