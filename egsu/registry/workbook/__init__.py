"""Bulk import and export of the whole registry as one workbook (xlsx, or CSV files in a folder or zip)."""

from egsu.registry.workbook.exporter import export_workbook
from egsu.registry.workbook.files import WorkbookFormatError
from egsu.registry.workbook.importer import ImportReport, RowError, import_workbook

__all__ = ["ImportReport", "RowError", "WorkbookFormatError", "export_workbook", "import_workbook"]
