from django.db import migrations

from wenming.core.vendor_sql import append_only


class Migration(migrations.Migration):
    dependencies = [("core", "0005_ledger_checkpoints")]

    operations = [
        append_only("core_ledgercheckpoint", message="ledger checkpoints are append-only"),
    ]
