"""Migrations that need SQL written per database (triggers on SQLite and PostgreSQL).
Kept tiny and stable: historical migrations import it."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def vendor_sql(up: dict[str, str], down: dict[str, str]) -> migrations.RunPython:
    """A reversible operation running the SQL of the current database vendor, if any."""

    def runner(sql_by_vendor: dict[str, str]) -> Any:
        def run(apps: Any, schema_editor: Any) -> None:
            sql = sql_by_vendor.get(schema_editor.connection.vendor)
            if sql:
                schema_editor.execute(sql)

        return run

    return migrations.RunPython(runner(up), runner(down))
