"""`wenming ledger verify` recomputes every hash chain of every registered ledger and
checks it against every signed checkpoint, naming the first broken entry; exit status 1
if any chain is broken. `wenming ledger checkpoint` signs every chain's head now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wenming.core import checkpoints, registry


class Command(BaseCommand):
    help = "Verify the ledgers' hash chains and checkpoints, or sign checkpoints now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "checkpoint"])

    def handle(self, *args: Any, **options: Any) -> None:
        broken = 0
        for model in registry.ledgers():
            for chain in checkpoints.chains(model):
                if options["action"] == "checkpoint":
                    cp = checkpoints.checkpoint(model, chain)
                    what = f"signed #{cp.seq} {cp.head_hash}" if cp else "unchanged"
                    self.stdout.write(f"{model._meta.db_table} {chain}: {what}")
                    continue
                report = checkpoints.verify(model, chain)
                v = report.verification
                if v.ok:
                    self.stdout.write(
                        f"OK {report.table} {chain}: {v.entries} entries, "
                        f"{report.checkpoints} checkpoints"
                    )
                else:
                    broken += 1
                    self.stdout.write(
                        f"BROKEN {report.table} {chain}: first bad entry #{v.first_bad_seq} "
                        f"({v.reason})"
                    )
        if broken:
            raise CommandError(f"{broken} chain(s) broken")
