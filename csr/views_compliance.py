"""The compliance page of a CSR cycle (``csr:compliance``): each partner of a required sector with its proposal,
refusal (and reason) or nothing by its deadline, the reminders sent, and agreed programs overdue for realisation.

The secretariat (``Cap.CSR_MANAGE``) sees the rows; leadership (``Cap.CSR_SUMMARY``) sees the counts only."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from csr import compliance, selectors
from csr.models import CsrCycle
from tkpk.scoping import Cap, ScopedViewMixin


def cycle_from_request(request: HttpRequest, cycle_id: int | None) -> tuple[CsrCycle | None, list[CsrCycle]]:
    """The cycle of the URL (or ``?cycle=``) among those the user may see (404 otherwise); the newest open
    cycle when none is named (None when the region has no cycle yet)."""
    cycles = list(selectors.cycles_for(user=request.user))
    wanted = cycle_id if cycle_id is not None else request.GET.get("cycle") or request.GET.get("siklus")
    if wanted in (None, ""):
        return selectors.current_cycle(user=request.user), cycles
    try:
        pk = int(str(wanted))
    except ValueError:
        raise Http404 from None
    cycle = next((c for c in cycles if c.pk == pk), None)
    if cycle is None:
        raise Http404
    return cycle, cycles


class ComplianceView(ScopedViewMixin, View):
    required_capability = Cap.CSR_SUMMARY

    def get(self, request: HttpRequest, cycle_id: int | None = None) -> HttpResponse:
        can_manage = self.scope.can(Cap.CSR_MANAGE)
        if not (can_manage or self.scope.can(Cap.CSR_SUMMARY)):
            raise PermissionDenied
        cycle, cycles = cycle_from_request(request, cycle_id)
        if cycle is None:
            return render(request, "csr/compliance/page.html", {"cycle": None})
        flagged_only = request.GET.get("flagged") == "1"
        include_others = request.GET.get("semua") == "1"
        report = compliance.cycle_compliance(user=request.user, cycle=cycle, include_others=include_others)
        rows = report.rows if can_manage else []
        if flagged_only:
            rows = [r for r in rows if r.flagged]
        context: dict[str, Any] = {
            "cycle": cycle,
            "cycles": cycles,
            "report": report,
            "counts": report.counts(),
            "rows": rows,
            "overdue": report.overdue if can_manage else [],
            "can_manage": can_manage,
            "flagged_only": flagged_only,
            "include_others": include_others,
            "required_sectors": ", ".join(cycle.required_sector_labels()),
        }
        return render(request, "csr/compliance/page.html", context)
