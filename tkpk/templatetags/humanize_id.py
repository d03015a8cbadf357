"""Indonesian number formatting for templates (``12.345``)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def ribuan(value: object) -> str:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "—"
    return f"{number:,}".replace(",", ".")
