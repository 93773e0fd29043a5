"""The database refuses to change an order's timeline: an OrderEvent, once written, is
never updated (the services only ever add events). As for the audit log and the
service ledger, deletes stay possible at the database level so that test databases can
be flushed; the application never deletes events."""

from django.db import migrations

from wenming.core.vendor_sql import vendor_sql

SQLITE_UP = """
CREATE TRIGGER IF NOT EXISTS demands_orderevent_append_only
BEFORE UPDATE ON demands_orderevent
BEGIN
    SELECT RAISE(ABORT, 'order events are append-only');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS demands_orderevent_append_only;"

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION demands_orderevent_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'order events are append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS demands_orderevent_append_only ON demands_orderevent;
CREATE TRIGGER demands_orderevent_append_only
BEFORE UPDATE ON demands_orderevent
FOR EACH ROW EXECUTE FUNCTION demands_orderevent_refuse_update();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS demands_orderevent_append_only ON demands_orderevent;
DROP FUNCTION IF EXISTS demands_orderevent_refuse_update();
"""


class Migration(migrations.Migration):
    dependencies = [("demands", "0001_orders_and_service_menu")]

    operations = [
        vendor_sql(
            {"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP},
            {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN},
        )
    ]
