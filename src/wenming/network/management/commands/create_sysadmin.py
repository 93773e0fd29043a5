from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from wenming.accounts.models import User
from wenming.core import regions as rc
from wenming.core.audit import audit_record
from wenming.core.errors import RuleViolation
from wenming.core.roles import Role
from wenming.network.models import Region, RoleGrant


class Command(BaseCommand):
    help = "Create a system admin granted on a region (province, city or county code)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--phone", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--region", required=True, help="e.g. 320000000000 or 32")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        from wenming.accounts.services import user_create

        try:
            code = rc.normalize(options["region"])
            region = Region.objects.get(code=code)
        except (rc.InvalidRegionCode, Region.DoesNotExist) as exc:
            raise CommandError(
                "unknown region; import regions first (wenming regions import FILE)"
            ) from exc
        try:
            user = User.objects.get_by_phone(options["phone"])
        except User.DoesNotExist:
            password = getpass.getpass("Password: ")
            try:
                user = user_create(
                    actor=None,
                    phone=options["phone"],
                    name=options["name"],
                    password=password,
                    region_code=code,
                )
            except RuleViolation as exc:
                raise CommandError(exc.message) from exc
        grant, created = RoleGrant.objects.get_or_create(
            user=user, role=Role.SYSADMIN, region=region, revoked_at=None
        )
        if created:
            audit_record(
                actor=None,
                verb="grant.create",
                target=grant,
                region_code=code,
                changes={"user": [None, user.pk], "role": [None, Role.SYSADMIN]},
            )
        self.stdout.write(f"system admin {user} on {region.name} ({code})")
