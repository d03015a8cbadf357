"""The coverage-gap dashboard: precomputed figures of a region and its children (map or ranked table),
trend and targets over the years, and the secretariat's recompute button with its progress."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from reports import selectors, services
from reports.models import GapRun, GapRunStatus, GapTrigger
from reports.selectors_dashboard import dashboard, household_list_url
from tkpk.scoping import Cap, ScopedViewMixin, scope_for

PENDING = (GapRunStatus.QUEUED, GapRunStatus.RUNNING)


def _year(value: str | None) -> int | None:
    """A plausible year from the query string; None when absent or not a year."""
    if value and value.isdigit() and 2000 <= int(value) <= timezone.localdate().year + 1:
        return int(value)
    return None


def run_status_context(*, user: Any, year: int, watch: bool = False) -> dict[str, Any]:
    """Runs of the year the user may see that are waiting or running, and the last finished one."""
    runs = GapRun.objects.for_user(user).filter(year=year)
    pending = list(runs.filter(status__in=PENDING).order_by("id"))
    last = runs.filter(status=GapRunStatus.DONE).order_by("-finished_at").first()
    failed = runs.filter(status=GapRunStatus.FAILED).order_by("-finished_at").first()
    if failed is not None and last is not None and last.finished_at and failed.finished_at:
        failed = failed if failed.finished_at > last.finished_at else None
    return {
        "year": year,
        "pending": pending,
        "last_run": last,
        "failed_run": failed,
        "watch": watch,
        "poll_url": f"{reverse('reports:run_status')}?{urlencode({'year': year, 'watch': 1})}",
        "can_manage": scope_for(user).can(Cap.GAP_MANAGE),
    }


class DashboardView(ScopedViewMixin, TemplateView):
    required_capability = Cap.GAP_VIEW
    template_name = "reports/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        year = _year(self.request.GET.get("year")) or selectors.default_year()
        data = dashboard(user=user, region=self.request.GET.get("region"), year=year)
        years = sorted({*services.computed_years(), timezone.localdate().year, year}, reverse=True)
        context.update(
            {
                "d": data,
                "year": year,
                "years": years,
                "fresh": selectors.freshness(year=year, region=data.region.code if data.region else ""),
                "status": run_status_context(user=user, year=year),
                "household_url": household_list_url(region=data.region.code, year=year) if data.region else "",
                "labels": {
                    "households": _("Keluarga"),
                    "desil": _("Desil"),
                    "desil1": _("Desil 1"),
                    "uncovered": _("Desil 1 belum terjangkau"),
                    "covered": _("Terjangkau"),
                    "graduated": _("Graduasi"),
                    "poverty_target": _("Target kemiskinan (%)"),
                    "poverty_actual": _("Kemiskinan BPS (%)"),
                    "extreme_target": _("Target ekstrem (%)"),
                    "extreme_actual": _("Ekstrem BPS (%)"),
                    "legend": _("Desil 1 belum terjangkau"),
                    "no_data": _("tanpa data"),
                },
                "chart_data": {
                    "desil": data.desil,
                    "children": [
                        {"code": c.code, "name": c.name, "desil1": c.desil1, "uncovered": c.desil1_uncovered}
                        for c in data.children
                    ],
                    "cluster": data.by_cluster,
                    "strategy": data.by_strategy,
                    "organization": data.by_organization,
                    "trend": data.trend,
                    "targets": data.targets,
                },
            }
        )
        return context


class RecomputeView(ScopedViewMixin, View):
    """The secretariat's button: one computation of the year for its TKPK region (coalesced)."""

    required_capability = Cap.GAP_MANAGE
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        year = _year(request.POST.get("year"))
        if year is None:
            return HttpResponseBadRequest(_("Tahun tidak sah."))
        run = services.gap_recompute_request(
            year=year, region_code=selectors.visible_root(request.user), trigger=GapTrigger.MANUAL, user=request.user
        )
        if request.headers.get("HX-Request"):
            context = run_status_context(user=request.user, year=year, watch=True)
            return render(request, "reports/_run_status.html", context)
        messages.success(
            request, _("Perhitungan ulang %(year)s masuk antrean (nomor %(id)s).") % {"year": year, "id": run.pk}
        )
        target = request.POST.get("region", "")
        query: dict[str, str | int] = {"year": year}
        if target.replace(".", "").isdigit():
            query["region"] = target
        return redirect(f"{reverse('reports:dashboard')}?{urlencode(query)}")


class RunStatusView(ScopedViewMixin, View):
    """The progress partial, polled by htmx while a computation waits or runs."""

    required_capability = Cap.GAP_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        year = _year(request.GET.get("year")) or selectors.default_year()
        context = run_status_context(user=request.user, year=year, watch=request.GET.get("watch") == "1")
        return render(request, "reports/_run_status.html", context)
