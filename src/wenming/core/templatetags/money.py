"""Money in templates: amounts are stored in integer fen and shown in yuan."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def yuan(fen: object) -> str:
    """12345 → "123.45", with thousands separators; negative amounts keep their sign."""
    try:
        value = int(fen)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    return f"{sign}{whole:,}.{cents:02d}"
