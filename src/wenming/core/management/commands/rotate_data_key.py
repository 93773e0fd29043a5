from __future__ import annotations

import base64
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wenming.core.keyrotation import RotationCount, data_key_rotate, data_key_status


class Command(BaseCommand):
    help = (
        "Re-encrypt personal data (ID and phone numbers) under the first key of "
        "WENMING_DATA_KEY. Put a new key first, keep the old ones after it, run this, "
        "then drop the old keys once --check reports nothing left."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--check", action="store_true", help="only count rows still under an old key"
        )
        group.add_argument(
            "--generate", action="store_true", help="print a new random key and exit"
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["generate"]:
            self.stdout.write(base64.b64encode(os.urandom(32)).decode())
            return
        if options["check"]:
            counts = data_key_status()
            for c in counts:
                self.stdout.write(f"{c.model}: {c.stale} of {c.rows} rows under an old key")
            if any(c.stale for c in counts):
                self.stdout.write("run `wenming rotate_data_key` to re-encrypt them")
            else:
                self.stdout.write(self.style.SUCCESS("all personal data is under the current key"))
            return

        def show(count: RotationCount) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"  {count.model}: {count.rows} rows read")

        counts = data_key_rotate(batch_size=max(1, options["batch_size"]), progress=show)
        for c in counts:
            self.stdout.write(f"{c.model}: re-encrypted {c.rewritten} of {c.rows} rows")
        self.stdout.write(self.style.SUCCESS("done"))
