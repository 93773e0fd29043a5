"""Demo households: filled in below."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

DEMO_VERB = "demo.households"
DEMO_VERB_LABEL = pgettext_lazy("audit verb", "加载十必联演示数据")


def seed_households() -> dict[str, int]:
    return {}
