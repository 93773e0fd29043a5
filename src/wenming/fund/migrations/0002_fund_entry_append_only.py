from django.db import migrations

from wenming.core.vendor_sql import append_only


class Migration(migrations.Migration):
    dependencies = [("fund", "0001_funds_donations_ledger")]

    operations = [
        append_only("fund_fundentry", message="fund ledger entries are append-only"),
        append_only("fund_donation", message="donations are never edited: refund by reversal"),
    ]
