"""The database refuses to change a confirmed service record, whatever the application
does: the ledger is append-only once confirmed (a correction is a new reversing record).
Like core 0002's audit trigger, deletes stay possible at the database level so that test
databases can be flushed; the application never deletes records."""

from django.db import migrations

from wenming.core.vendor_sql import vendor_sql

SQLITE_UP = """
CREATE TRIGGER IF NOT EXISTS records_servicerecord_confirmed_immutable
BEFORE UPDATE ON records_servicerecord
WHEN OLD.status = 'confirmed'
BEGIN
    SELECT RAISE(ABORT, 'confirmed service records are append-only');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS records_servicerecord_confirmed_immutable;"

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION records_servicerecord_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'confirmed service records are append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS records_servicerecord_confirmed_immutable ON records_servicerecord;
CREATE TRIGGER records_servicerecord_confirmed_immutable
BEFORE UPDATE ON records_servicerecord
FOR EACH ROW WHEN (OLD.status = 'confirmed')
EXECUTE FUNCTION records_servicerecord_refuse_update();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS records_servicerecord_confirmed_immutable ON records_servicerecord;
DROP FUNCTION IF EXISTS records_servicerecord_refuse_update();
"""


class Migration(migrations.Migration):
    dependencies = [("records", "0001_attendance_service_records")]

    operations = [
        vendor_sql(
            {"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP},
            {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN},
        )
    ]
