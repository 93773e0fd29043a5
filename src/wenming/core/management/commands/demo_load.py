from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from wenming.core.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo county (idempotent: a second run changes nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        for seed, counts in demo_load().items():
            made = ", ".join(f"{k} +{v}" for k, v in counts.items())
            self.stdout.write(f"demo {seed}: {made}")
