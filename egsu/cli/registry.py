"""`egsu registry import|export`: the whole registry as one workbook (xlsx, or CSV in a folder or zip)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

app = typer.Typer(help="Bulk import and export of the registry.", no_args_is_help=True)
console = Console(stderr=True)
_SHOWN_ERRORS = 200


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    )


@app.command("import")
def import_command(
    path: Annotated[
        Path, typer.Argument(help="An .xlsx workbook, a .zip of CSV files, a folder of CSV files or one CSV.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count, but write nothing.")] = False,
    errors_out: Annotated[
        Path | None, typer.Option("--errors-out", help="Also write every row error to this CSV.")
    ] = None,
) -> None:
    """Check every row and upsert the registry; one error anywhere and nothing is written."""
    from egsu.registry.workbook import import_workbook

    with _progress_bar() as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(
                    {"check": "Checking rows", "write": "Writing"}.get(phase, phase), total=total
                )
            bar.update(tasks[phase], completed=done, total=total)

        report = import_workbook(path, dry_run=dry_run, progress=progress)

    for warning in report.warnings:
        console.print(
            f"[yellow]warning[/] {warning.sheet} row {warning.row} {warning.column}: {warning.message}"
        )
    if errors_out is not None:
        with errors_out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["sheet", "row", "column", "message"])
            for error in report.errors:
                writer.writerow([error.sheet, error.row, error.column, error.message])
    if report.errors:
        table = Table(title=f"{len(report.errors)} error(s): nothing was imported", title_style="bold red")
        for header in ("sheet", "row", "column", "message"):
            table.add_column(header, overflow="fold")
        for error in report.errors[:_SHOWN_ERRORS]:
            table.add_row(error.sheet, str(error.row), error.column, error.message)
        console.print(table)
        if len(report.errors) > _SHOWN_ERRORS:
            console.print(f"… and {len(report.errors) - _SHOWN_ERRORS} more (use --errors-out FILE for all)")
        raise typer.Exit(1)

    table = Table(title="Dry run: nothing written" if dry_run else "Imported")
    for header in ("sheet", "created", "updated", "unchanged"):
        table.add_column(header, justify="left" if header == "sheet" else "right")
    for sheet, counts in report.counts.items():
        table.add_row(sheet, str(counts["created"]), str(counts["updated"]), str(counts["unchanged"]))
    console.print(table)


@app.command("export")
def export_command(
    path: Annotated[Path, typer.Argument(help="An .xlsx file, a .zip or a folder (CSV files).")],
) -> None:
    """Write the whole registry; the password column is always blank."""
    from egsu.registry.workbook import WorkbookFormatError, export_workbook

    with _progress_bar() as bar:
        tasks: dict[str, int] = {}

        def progress(sheet: str, done: int, total: int) -> None:
            if sheet not in tasks:
                tasks[sheet] = bar.add_task(sheet, total=total)
            bar.update(tasks[sheet], completed=done, total=total)

        try:
            counts = export_workbook(path, progress=progress)
        except WorkbookFormatError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
    summary = ", ".join(f"{sheet} {count}" for sheet, count in counts.items())
    console.print(f"Exported to [bold]{path}[/]: {summary}")
