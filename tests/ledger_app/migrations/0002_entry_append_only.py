from django.db import migrations

from wenming.core.vendor_sql import append_only


class Migration(migrations.Migration):
    dependencies = [("ledger_app", "0001_entry")]

    operations = [append_only("ledger_app_entry", message="ledger entries are append-only")]
