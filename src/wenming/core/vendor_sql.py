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


def append_only(table: str, *, message: str, when: str = "") -> migrations.RunPython:
    """Triggers on SQLite and PostgreSQL that refuse every UPDATE of `table` (only those
    where the condition `when` holds on OLD, when given), with `message`. For every new
    append-only table, instead of hand-copying trigger SQL. Deletes stay possible at
    the database level (test databases are flushed; the application never deletes).

    `table` and `when` are SQL written by the migration's author, never user input."""
    trigger = f"{table}_append_only"
    function = f"{table}_refuse_update"
    quoted_message = message.replace("'", "''")
    sqlite_when = f"WHEN {when}" if when else ""
    pg_when = f"WHEN ({when})" if when else ""
    up = {
        "sqlite": f"""
CREATE TRIGGER IF NOT EXISTS {trigger}
BEFORE UPDATE ON {table}
{sqlite_when}
BEGIN
    SELECT RAISE(ABORT, '{quoted_message}');
END;
""",
        "postgresql": f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{quoted_message}';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {trigger} ON {table};
CREATE TRIGGER {trigger}
BEFORE UPDATE ON {table}
FOR EACH ROW {pg_when} EXECUTE FUNCTION {function}();
""",
    }
    down = {
        "sqlite": f"DROP TRIGGER IF EXISTS {trigger};",
        "postgresql": f"""
DROP TRIGGER IF EXISTS {trigger} ON {table};
DROP FUNCTION IF EXISTS {function}();
""",
    }
    return vendor_sql(up, down)
