from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wenming.core.errors import RuleViolation
from wenming.network.services import read_regions_csv, regions_import


class Command(BaseCommand):
    help = "区划数据：wenming regions import FILE（CSV：code,name）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a code,name CSV of regions (idempotent)")
        imp.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rows = read_regions_csv(options["file"])
            result = regions_import(actor=None, rows=rows)
        except (RuleViolation, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"regions: {result.created} created, {result.updated} renamed, "
            f"{result.unchanged} unchanged"
        )
