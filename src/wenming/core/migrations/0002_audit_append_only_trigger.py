"""The database refuses to change an audit row, whatever the application does.

Deletes stay possible at the database level only (the app refuses them), so that an
operator can still purge by retention policy and test databases can be flushed."""

from django.db import migrations

from wenming.core.vendor_sql import vendor_sql

SQLITE_UP = """
CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update
BEFORE UPDATE ON core_auditevent
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS core_auditevent_no_update;"

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION core_auditevent_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_auditevent_no_update ON core_auditevent;
CREATE TRIGGER core_auditevent_no_update
BEFORE UPDATE ON core_auditevent
FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse_update();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS core_auditevent_no_update ON core_auditevent;
DROP FUNCTION IF EXISTS core_auditevent_refuse_update();
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        vendor_sql(
            {"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP},
            {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN},
        )
    ]
