"""`egsu registry import|export` from a shell."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from egsu.cli.registry import app
from egsu.registry.demo import load_demo_registry
from egsu.registry.models import Subject

pytestmark = pytest.mark.django_db
runner = CliRunner()


def test_export_then_dry_run_import(tmp_path):
    load_demo_registry(password="Demo-password-1")
    path = tmp_path / "registry.xlsx"
    exported = runner.invoke(app, ["export", str(path)])
    assert exported.exit_code == 0, exported.output
    assert path.exists()
    checked = runner.invoke(app, ["import", str(path), "--dry-run"])
    assert checked.exit_code == 0, checked.output
    assert "Dry run: nothing written" in checked.output


def test_import_with_errors_exits_1_and_writes_the_error_file(tmp_path):
    path = tmp_path / "subjects.csv"
    path.write_text("bin,name\r\n020240000556,Typo LLP\r\n020240000555,\r\n", encoding="utf-8")
    errors = tmp_path / "errors.csv"
    result = runner.invoke(app, ["import", str(path), "--errors-out", str(errors)])
    assert result.exit_code == 1
    assert "nothing was imported" in result.output
    with errors.open(encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["sheet", "row", "column", "message"],
            ["subjects", "2", "bin", "020240000556 fails the BIN check digit (the 12th digit should be 5)"],
            ["subjects", "3", "name", "name is required"],
        ]
    assert Subject.objects.count() == 0


def test_import_writes_and_summarises(tmp_path):
    path = tmp_path / "subjects.csv"
    path.write_text("bin,name\r\n020240000555,KMG\r\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported" in result.output
    assert Subject.objects.get().name == "KMG"


def test_export_to_an_unsupported_path_is_refused(tmp_path):
    result = runner.invoke(app, ["export", str(tmp_path / "registry.csv")])
    assert result.exit_code == 2
    assert "export writes the whole registry" in result.output
