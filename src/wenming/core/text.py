"""Free text as services accept it: stripped, and within a documented length, so no
field takes 200,000 characters because its column happens to be unbounded."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from wenming.core.errors import RuleViolation

# The lengths every domain uses for its free text (characters).
DESCRIPTION_MAX = 5000  # an activity's, a project's, a team's, a menu item's description
NOTE_MAX = 2000  # notes, details, outcomes


def clean_text(value: object, *, field: str, label: str | Promise, max_length: int) -> str:
    """`value` stripped; longer than `max_length` is a rule violation on `field`."""
    text = "" if value is None else str(value).strip()
    if len(text) > max_length:
        raise RuleViolation(
            _("%(label)s最多 %(n)d 个字（现在 %(len)d 个）。")
            % {"label": label, "n": max_length, "len": len(text)},
            field=field,
        )
    return text
