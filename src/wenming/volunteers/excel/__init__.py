"""Volunteers in and out of Excel: the import template, the check of a filled workbook (a
row-by-row report before anything is written), the import itself (all rows or only the
valid ones, in one transaction), and the masked export.

The rules are single registration's (`services.registration_clean`), run with lookups
loaded once per file instead of per row. The check reads the workbook once, streaming
(openpyxl read-only), and writes the valid rows, already normalized, encrypted and
hashed, to a side file; the import reads that file, re-checks duplicates inside its
transaction and writes in batches. Nothing in the job results or the audit log contains
an ID or phone number.

A package: `template` (the columns, the actor's scope, the template workbook, the first
look at an upload), `check` (every row checked, the valid ones kept aside), `apply` (the
import itself), `export`, and the pages (`views`, `urls`)."""

from wenming.volunteers.excel.apply import (
    IMPORT_RACE,
    ApplyResult,
    import_apply,
)
from wenming.volunteers.excel.check import (
    CheckResult,
    RowChecker,
    check_workbook,
)
from wenming.volunteers.excel.export import (
    EXPORT_HEADERS,
    export_workbook,
)
from wenming.volunteers.excel.template import (
    AUDIT_VERBS,
    BATCH,
    CHOICES_TITLE,
    COLUMN_INDEX,
    COLUMNS,
    FIELD_COLUMN,
    INLINE_MAX_ROWS,
    KIND_APPLY,
    KIND_CHECK,
    MAX_REPORTED_ERRORS,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    MODE_ALL,
    MODE_VALID,
    SHEET_TITLE,
    column_label,
    region_label,
    scope_code,
    template_workbook,
    workbook_precheck,
)

__all__ = [
    "AUDIT_VERBS",
    "BATCH",
    "CHOICES_TITLE",
    "COLUMNS",
    "COLUMN_INDEX",
    "EXPORT_HEADERS",
    "FIELD_COLUMN",
    "IMPORT_RACE",
    "INLINE_MAX_ROWS",
    "KIND_APPLY",
    "KIND_CHECK",
    "MAX_REPORTED_ERRORS",
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "MODE_ALL",
    "MODE_VALID",
    "SHEET_TITLE",
    "ApplyResult",
    "CheckResult",
    "RowChecker",
    "check_workbook",
    "column_label",
    "export_workbook",
    "import_apply",
    "region_label",
    "scope_code",
    "template_workbook",
    "workbook_precheck",
]
