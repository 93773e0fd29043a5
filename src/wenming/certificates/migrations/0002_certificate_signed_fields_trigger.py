"""The database refuses to change what a certificate certifies, whatever the application
does: the signed fields (and the signature) never change after issue, and a revocation
is never undone or rewritten. Revoking (setting the revocation fields once) is the only
update allowed. Like core 0002's audit trigger, deletes stay possible at the database
level so that test databases can be flushed; the application never deletes a
certificate, and every foreign key to one PROTECTs it."""

from django.db import migrations

from wenming.core.vendor_sql import vendor_sql

SIGNED = [
    "number", "volunteer_id", "unit_id", "region_id", "volunteer_number", "volunteer_name",
    "id_type", "id_masked", "unit_name", "period_start", "period_end", "minutes", "content",
    "person_in_charge", "handler", "contact", "issued_at", "issued_by_id", "signature",
    "request_id",
]
REVOCATION = ["revoked_at", "revoked_by_id", "revoked_reason"]


def _changed(op):
    return " OR ".join(f"NEW.{f} {op} OLD.{f}" for f in SIGNED)


def _unrevoked(op):
    return "OLD.revoked_at IS NOT NULL AND (" + " OR ".join(
        f"NEW.{f} {op} OLD.{f}" for f in REVOCATION
    ) + ")"


SQLITE_UP = f"""
CREATE TRIGGER IF NOT EXISTS certificates_certificate_signed_immutable
BEFORE UPDATE ON certificates_certificate
WHEN ({_changed("IS NOT")}) OR ({_unrevoked("IS NOT")})
BEGIN
    SELECT RAISE(ABORT, 'certificates are immutable once issued (revoke instead)');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS certificates_certificate_signed_immutable;"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION certificates_certificate_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'certificates are immutable once issued (revoke instead)';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS certificates_certificate_signed_immutable ON certificates_certificate;
CREATE TRIGGER certificates_certificate_signed_immutable
BEFORE UPDATE ON certificates_certificate
FOR EACH ROW WHEN (({_changed("IS DISTINCT FROM")}) OR ({_unrevoked("IS DISTINCT FROM")}))
EXECUTE FUNCTION certificates_certificate_refuse_update();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS certificates_certificate_signed_immutable ON certificates_certificate;
DROP FUNCTION IF EXISTS certificates_certificate_refuse_update();
"""



class Migration(migrations.Migration):
    dependencies = [("certificates", "0001_certificates_and_requests")]

    operations = [
        vendor_sql(
            {"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP},
            {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN},
        )
    ]
