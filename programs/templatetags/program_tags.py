"""Realisation display helpers for the program pages: percentages, progress bars, rupiah."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from tkpk.templatetags.humanize_id import ribuan

register = template.Library()


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


@register.filter
def percent_of(value: Any, total: Any) -> int | None:
    """Whole percent of ``value`` against ``total``; None when there is no total to compare with."""
    part, whole = _number(value), _number(total)
    if part is None or not whole:
        return None
    return int((part * 100 / whole).to_integral_value())


@register.filter
def rupiah(value: Any) -> str:
    """``Rp 1.250.000``."""
    number = _number(value)
    if number is None:
        return "—"
    return f"Rp {ribuan(number.to_integral_value())}"


@register.inclusion_tag("programs/_progress.html")
def progress(value: Any, total: Any, label: str = "", testid: str = "") -> dict[str, Any]:
    """A Bootstrap progress bar of value/total: green at 100 %, amber from 50 %, red below."""
    pct = percent_of(value, total)
    part = _number(value) or Decimal(0)
    width = 0 if pct is None else max(0, min(pct, 100))
    shown = "—" if pct is None else f"{pct}%"
    if pct == 0 and part > 0:
        # Something was reached but less than half a percent: say so, and keep a sliver of bar visible.
        width, shown = 1, "<1%"
    if pct is None:
        tone = "secondary"
    elif pct >= 100:
        tone = "success"
    elif pct >= 50:
        tone = "warning"
    else:
        tone = "danger"
    return {"pct": pct, "shown": shown, "width": width, "tone": tone, "label": label, "testid": testid}
