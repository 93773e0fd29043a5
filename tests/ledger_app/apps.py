from django.apps import AppConfig


class LedgerAppConfig(AppConfig):
    """A test-only app with a concrete ledger, so core.ledger is tested as domains will
    use it (a subclass, its own migration and append-only trigger)."""

    name = "tests.ledger_app"
    label = "ledger_app"
    default_auto_field = "django.db.models.BigAutoField"
