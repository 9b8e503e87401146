"""`egsu doctor`, `egsu backup`, `egsu restore`: the operator's checks and the copies (issue 17).

Django is set up by the caller (egsu.cli) before this module is imported.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

STATE_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "off": "dim"}


def _console() -> Console:
    return Console(width=160, highlight=False, soft_wrap=True)


def doctor() -> None:
    """Run the readiness checks of /readyz on the console; exit 1 when the System is not ready."""
    from egsu.ops import checks

    results = checks.run_all()
    table = Table(title="EGSU readiness")
    table.add_column("check")
    table.add_column("state")
    table.add_column("detail", overflow="fold")
    for result in results:
        style = STATE_STYLE.get(result.state, "")
        table.add_row(result.name, f"[{style}]{result.state}[/]", result.detail)
    console = _console()
    console.print(table)
    if not checks.ready(results):
        console.print("[bold red]not ready[/]")
        raise typer.Exit(1)
    console.print("[green]ready[/]")
