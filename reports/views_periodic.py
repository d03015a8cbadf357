"""Periodic report pages (laporan berkala): the region's reports with their status (polled by htmx while
generating), a request form for the secretariat, and scoped downloads of the PDF and .xlsx."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View

from reports import periodic
from reports.models import PeriodicReport, PeriodicReportPeriod
from reports.services import computed_years
from tkpk.exceptions import DomainError
from tkpk.models import Region
from tkpk.scoping import Cap, ScopedViewMixin, scope_for
from tkpk.xlsx import XLSX_CONTENT_TYPE


class PeriodicReportForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Tahun"), coerce=int)
    period = forms.ChoiceField(label=_("Periode"), choices=PeriodicReportPeriod.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        this_year = timezone.localdate().year
        years = sorted({*computed_years(), this_year, this_year - 1}, reverse=True)
        year_field = self.fields["year"]
        assert isinstance(year_field, forms.TypedChoiceField)
        year_field.choices = [(y, str(y)) for y in years]
        self.fields["year"].initial = years[0]


class PeriodicViewMixin(ScopedViewMixin):
    model = PeriodicReport
    required_capability = Cap.GAP_VIEW

    def region(self) -> Region:
        regions = periodic.report_regions(user=self.request.user)
        if not regions:
            raise Http404
        code = (self.request.GET.get("wilayah") or self.request.POST.get("wilayah") or "").replace(".", "")
        return next((r for r in regions if r.code == code), regions[0])


class PeriodicReportListView(PeriodicViewMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(request, PeriodicReportForm())

    def page(self, request: HttpRequest, form: PeriodicReportForm, status: int = 200) -> HttpResponse:
        region = self.region()
        context = {
            "region": region,
            "regions": periodic.report_regions(user=request.user),
            "reports": periodic.periodic_report_list(user=request.user, region=region)[:50],
            "form": form,
            "can_generate": scope_for(request.user).can(Cap.GAP_MANAGE),
        }
        return render(request, "reports/periodic/list.html", context, status=status)

    def post(self, request: HttpRequest) -> HttpResponse:
        if not scope_for(request.user).can(Cap.GAP_MANAGE):
            raise PermissionDenied
        form = PeriodicReportForm(request.POST)
        if not form.is_valid():
            return self.page(request, form, status=400)
        region = self.region()
        try:
            report = periodic.periodic_report_request(
                user=request.user, region=region, year=form.cleaned_data["year"], period=form.cleaned_data["period"]
            )
        except DomainError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied from exc
            form.add_error(None, str(exc))
            return self.page(request, form, status=400)
        messages.success(request, _("Laporan %(period)s sedang dibuat.") % {"period": report.period_label})
        return redirect(f"{reverse('reports_periodic:list')}?wilayah={region.code}")


class PeriodicReportStatusView(PeriodicViewMixin, View):
    """The report's table row, polled every 2 s while it is queued or running."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = get_object_or_404(PeriodicReport.objects.for_user(request.user).select_related("requested_by"), pk=pk)
        return render(request, "reports/periodic/_row.html", {"report": report})


class PeriodicReportDownloadView(PeriodicViewMixin, View):
    """The stored file, only for users whose scope covers the report's region (never a public media URL)."""

    def get(self, request: HttpRequest, pk: int, kind: str) -> FileResponse:
        if kind not in ("pdf", "xlsx"):
            raise Http404
        report = get_object_or_404(PeriodicReport.objects.for_user(request.user), pk=pk)
        stored = report.pdf if kind == "pdf" else report.xlsx
        if not stored:
            raise Http404
        content_type = "application/pdf" if kind == "pdf" else XLSX_CONTENT_TYPE
        return FileResponse(
            stored.open("rb"),
            as_attachment=True,
            filename=f"{periodic.file_stem(report)}.{kind}",
            content_type=content_type,
        )
