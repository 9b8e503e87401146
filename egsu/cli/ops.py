"""`egsu doctor`, `egsu backup`, `egsu restore`: the operator's checks and the copies (issue 17).

Django is set up by the caller (egsu.cli) before this module is imported.
"""

from __future__ import annotations

from pathlib import Path

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


def _rich_progress():
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[note]}", style="dim"), console=Console(stderr=True),
    )  # fmt: skip


def backup(
    target: Path = typer.Option(
        None, "--to", help="Directory for the archive (default: EGSU_BACKUP_DIR, else var/backups)."
    ),
    no_clickhouse: bool = typer.Option(
        False,
        "--no-clickhouse",
        help="Leave the ClickHouse readings out (a national cluster: FREEZE per shard).",
    ),
) -> None:
    """Back up the database, the ClickHouse readings (when configured) and the var/ files into one
    dated archive with a SHA-256 manifest (DIG-13)."""
    from egsu.access.audit import Event, audit
    from egsu.ops import backup as backups

    directory = target or backups.default_dir()
    with _rich_progress() as bar:
        task = bar.add_task("backup", total=None, note="")

        def progress(done: int, total: int, note: str) -> None:
            bar.update(task, completed=done, total=total, note=note[-60:])

        try:
            path = backups.backup(directory, progress=progress, clickhouse=not no_clickhouse)
        except backups.BackupError as exc:
            _console().print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
    audit(Event.BACKUP_MADE, object_type="ops.backup", object_id=path.name, source="egsu backup",
          summary=f"{path.name} written ({path.stat().st_size} bytes)")  # fmt: skip
    _console().print(f"backup written: [bold]{path}[/] ({path.stat().st_size:,} bytes)")


def restore(
    archive: Path = typer.Argument(..., exists=True, dir_okay=False, help="An egsu-backup-….tar.gz"),
    force: bool = typer.Option(False, "--force", help="Restore over a database or var/ that is not empty."),
) -> None:
    """Restore an archive onto an empty database, ClickHouse table and var/ directory (checksums first)."""
    from egsu.ops import backup as backups

    with _rich_progress() as bar:
        task = bar.add_task("restore", total=None, note="")

        def progress(done: int, total: int, note: str) -> None:
            bar.update(task, completed=done, total=total, note=note[-60:])

        try:
            result = backups.restore(archive, force=force, progress=progress, source="egsu restore")
        except backups.BackupError as exc:
            _console().print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
    _console().print(
        f"restored {result.tables} tables ({result.rows:,} rows), {result.clickhouse_rows:,} ClickHouse rows "
        f"and {result.files} files in {result.seconds:.1f} s; row counts equal the manifest's"
    )
