"""The Musrenbang CSR summary page (``csr:summary``) and its .xlsx / PDF downloads (``csr:summary-download``):
aggregates only, for the secretariat and leadership (``Cap.CSR_SUMMARY``)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import View

from csr import summary
from csr.views_compliance import cycle_from_request
from tkpk.scoping import Cap, ScopedViewMixin
from tkpk.xlsx import XLSX_CONTENT_TYPE


class SummaryView(ScopedViewMixin, View):
    required_capability = Cap.CSR_SUMMARY

    def get(self, request: HttpRequest) -> HttpResponse:
        cycle, cycles = cycle_from_request(request, None)
        if cycle is None:
            return render(request, "csr/summary/page.html", {"cycle": None})
        data = summary.csr_summary(user=request.user, cycle=cycle)
        context = {
            "cycle": cycle,
            "cycles": cycles,
            "s": data,
            "chart_data": data.chart_data(),
            "chart_labels": {
                "value": _("Nilai (Rp)"),
                "proposals": _("Usulan"),
                "targeted": _("Keluarga sasaran"),
                "delivered": _("Keluarga tersalurkan"),
            },
            "can_manage": self.scope.can(Cap.CSR_MANAGE),
        }
        return render(request, "csr/summary/page.html", context)


class SummaryDownloadView(ScopedViewMixin, View):
    required_capability = Cap.CSR_SUMMARY

    def get(self, request: HttpRequest, kind: str) -> HttpResponse:
        if kind not in ("xlsx", "pdf"):
            raise Http404
        cycle, _cycles = cycle_from_request(request, None)
        if cycle is None:
            raise Http404
        data = summary.csr_summary(user=request.user, cycle=cycle)
        if kind == "xlsx":
            content, content_type = summary.render_xlsx(data), XLSX_CONTENT_TYPE
        else:
            content, content_type = summary.render_pdf(data)[0], "application/pdf"
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{summary.file_stem(cycle)}.{kind}"'
        return response
