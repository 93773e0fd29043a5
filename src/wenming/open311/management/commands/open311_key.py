"""Make an Open311 key from the command line (for operators), as the named staff user."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wenming.accounts.models import User
from wenming.core.errors import ServiceError
from wenming.open311 import services


class Command(BaseCommand):
    help = "Make an Open311 api_key for a client; prints the key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="the client, e.g. 12345热线")
        parser.add_argument("--region", required=True, help="12-digit region code it may post for")
        parser.add_argument("--as-phone", required=True, help="phone of the staff user making it")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            actor = User.objects.get_by_phone(options["as_phone"])
        except User.DoesNotExist:
            raise CommandError("no user with that phone number") from None
        try:
            key, raw = services.api_key_create(
                actor=actor, name=options["name"], region_code=options["region"]
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{key}: {raw}")
