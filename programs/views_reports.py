"""Activity report pages (laporan kegiatan): an agency or partner fills and submits its period report; the
secretariat sees who has not submitted, accepts or returns with a note, and exports a period as .xlsx;
leadership reads the board and the reports."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from programs import activity
from programs.forms_reports import (
    ActivityReportEditForm,
    ActivityReportReviewForm,
    ActivityReportStartForm,
    BoardFilterForm,
)
from programs.models import ActivityReport, ActivityReportStatus
from tkpk.exceptions import DomainError
from tkpk.scoping import Cap, ScopedViewMixin, scope_for
from tkpk.xlsx import XLSX_CONTENT_TYPE


class ReportsViewMixin(ScopedViewMixin):
    """Login and a capability (``ScopedViewMixin``), plus ``has_access`` for pages open to several roles."""

    model = ActivityReport
    required_capability = Cap.ACTIVITY_REPORT_SUBMIT

    def has_access(self, user: Any) -> bool:
        return scope_for(user).can(self.required_capability)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and not self.has_access(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class SubmitOrBoardMixin(ReportsViewMixin):
    """Pages for reporters and for readers of the board (secretariat, leadership)."""

    required_capability = Cap.PROGRAM_VIEW

    def has_access(self, user: Any) -> bool:
        return scope_for(user).can(Cap.ACTIVITY_REPORT_SUBMIT) or activity.may_view_board(user=user)


class BoardAccessMixin(ReportsViewMixin):
    required_capability = Cap.PROGRAM_VIEW

    def has_access(self, user: Any) -> bool:
        return activity.may_view_board(user=user)


def detail_url(report: ActivityReport) -> str:
    return reverse("activity_reports:detail", args=[report.pk])


def board_url(report: ActivityReport) -> str:
    period = activity.report_period(report)
    query = urlencode({"region": report.region_id, "periode": period.key})
    return f"{reverse('activity_reports:board')}?{query}"


def report_context(report: ActivityReport, user: Any) -> dict[str, Any]:
    figures = list(report.figures or [])
    return {
        "report": report,
        "period": activity.report_period(report),
        "figures": figures,
        "totals": activity.figures_totals(figures),
        "timeline": activity.report_timeline(report),
        "can_edit": report.status in activity.EDITABLE_STATUSES
        and activity.may_submit_for(user=user, organization_id=report.organization_id),
        "can_review": report.status == ActivityReportStatus.SUBMITTED and activity.may_review(user=user, report=report),
    }


# ------------------------------------------------------------------------------------------- reporters


class MyReportsView(SubmitOrBoardMixin, View):
    """The user's organization(s) reports, newest period first, and the form to start a period's report.
    Readers of the board who report for nobody land on the board."""

    template_name = "programs/activity/list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if not scope_for(request.user).can(Cap.ACTIVITY_REPORT_SUBMIT):
            return redirect("activity_reports:board")
        organizations = activity.reporting_organizations(user=request.user)
        reports = list(activity.activity_report_list(user=request.user, organizations=organizations))
        periods: list[activity.Period] = []
        for organization in organizations:
            for period in activity.startable_periods(organization=organization, existing=reports):
                if period not in periods:
                    periods.append(period)
        form = ActivityReportStartForm(organizations=organizations, periods=periods) if periods else None
        context = {
            "organizations": organizations,
            "reports": reports,
            "start_form": form,
            "current_period": activity.period_current(),
            "can_board": activity.may_view_board(user=request.user),
        }
        return render(request, self.template_name, context)


class StartReportView(ReportsViewMixin, View):
    """POST: start (or open, if it exists) the organization's report of the chosen period."""

    def post(self, request: HttpRequest) -> HttpResponse:
        organizations = activity.reporting_organizations(user=request.user)
        periods = [activity.period_current(), activity.period_current().previous()]
        form = ActivityReportStartForm(request.POST, organizations=organizations, periods=periods)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))
            return redirect("activity_reports:mine")
        try:
            report = activity.activity_report_start(
                actor=request.user, organization=form.cleaned_data["organization"], period=form.cleaned_data["period"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("activity_reports:mine")
        if report.status not in activity.EDITABLE_STATUSES:
            messages.info(request, _("Laporan periode ini sudah ada."))
            return redirect(detail_url(report))
        return redirect("activity_reports:edit", pk=report.pk)


class EditReportView(ReportsViewMixin, View):
    """Edit a draft or returned report: figures (refreshable), narrative, obstacles; save or submit."""

    template_name = "programs/activity/edit.html"

    def get_report(self, request: HttpRequest, pk: int) -> ActivityReport:
        report = activity.activity_report_get(user=request.user, pk=pk)
        if not activity.may_submit_for(user=request.user, organization_id=report.organization_id):
            raise PermissionDenied
        return report

    def _render(self, request: HttpRequest, report: ActivityReport, form: ActivityReportEditForm) -> HttpResponse:
        return render(request, self.template_name, {**report_context(report, request.user), "form": form})

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self.get_report(request, pk)
        if report.status not in activity.EDITABLE_STATUSES:
            messages.info(request, _("Laporan ini sudah diajukan dan tidak dapat diubah lagi."))
            return redirect(detail_url(report))
        form = ActivityReportEditForm(initial={"narrative": report.narrative, "obstacles": report.obstacles})
        return self._render(request, report, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self.get_report(request, pk)
        form = ActivityReportEditForm(request.POST)
        if not form.is_valid():
            return self._render(request, report, form)
        data = form.cleaned_data
        try:
            report = activity.activity_report_update(
                actor=request.user, report=report, narrative=data["narrative"], obstacles=data["obstacles"]
            )
            if data["action"] == "refresh":
                report = activity.activity_report_refresh_figures(actor=request.user, report=report)
                messages.success(request, _("Angka capaian diperbarui dari data intervensi."))
                return redirect("activity_reports:edit", pk=report.pk)
            if data["action"] == "submit":
                report = activity.activity_report_submit(actor=request.user, report=report)
                messages.success(request, _("Laporan diajukan ke sekretariat TKPK."))
                return redirect(detail_url(report))
        except DomainError as exc:
            field = exc.extra.get("field")
            form.add_error(field if field in form.fields else None, exc.message)
            report.refresh_from_db()
            return self._render(request, report, form)
        messages.success(request, _("Draf laporan disimpan."))
        return redirect("activity_reports:edit", pk=report.pk)


class ReportDetailView(SubmitOrBoardMixin, View):
    """A report as submitted: figures, narrative, obstacles, the secretariat's note and the status timeline."""

    template_name = "programs/activity/detail.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = activity.activity_report_get(user=request.user, pk=pk)
        context = report_context(report, request.user)
        context["can_board"] = activity.may_view_board(user=request.user)
        context["board_url"] = board_url(report)
        return render(request, self.template_name, context)


# ----------------------------------------------------------------------------------------- secretariat


class ReviewReportView(ReportsViewMixin, View):
    """The secretariat accepts the report or returns it with a note."""

    required_capability = Cap.ACTIVITY_REPORT_REVIEW
    template_name = "programs/activity/review.html"

    def _render(self, request: HttpRequest, report: ActivityReport, form: ActivityReportReviewForm) -> HttpResponse:
        context = {**report_context(report, request.user), "form": form, "board_url": board_url(report)}
        return render(request, self.template_name, context)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = activity.activity_report_get(user=request.user, pk=pk)
        if report.status != ActivityReportStatus.SUBMITTED:
            messages.info(request, _("Laporan ini tidak sedang menunggu tinjauan."))
            return redirect(detail_url(report))
        return self._render(request, report, ActivityReportReviewForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = activity.activity_report_get(user=request.user, pk=pk)
        form = ActivityReportReviewForm(request.POST)
        if not form.is_valid():
            return self._render(request, report, form)
        note = form.cleaned_data["note"]
        try:
            if form.cleaned_data["decision"] == "accept":
                report = activity.activity_report_accept(actor=request.user, report=report, note=note)
                messages.success(request, _("Laporan %(org)s diterima.") % {"org": report.organization.name})
            else:
                report = activity.activity_report_return(actor=request.user, report=report, note=note)
                messages.success(
                    request, _("Laporan %(org)s dikembalikan dengan catatan.") % {"org": report.organization.name}
                )
        except DomainError as exc:
            field = exc.extra.get("field")
            form.add_error(field if field in form.fields else None, exc.message)
            return self._render(request, report, form)
        return redirect(board_url(report))


def _board_filters(request: HttpRequest) -> tuple[BoardFilterForm, Any, activity.Period, str] | None:
    regions = activity.board_regions(user=request.user)
    if not regions:
        return None
    form = BoardFilterForm(request.GET or None, regions=regions, periods=activity.period_recent())
    region, period, status = form.values(default_region=regions[0])
    if not form.is_bound:
        form = BoardFilterForm(
            initial={"region": region.code, "periode": period.key}, regions=regions, periods=activity.period_recent()
        )
    return form, region, period, status


class BoardView(BoardAccessMixin, View):
    """Every agency and partner of the region for one period: submitted, returned, accepted or not yet."""

    template_name = "programs/activity/board.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        filters = _board_filters(request)
        if filters is None:
            return render(request, self.template_name, {"board": None})
        form, region, period, status = filters
        board = activity.activity_board(user=request.user, region=region, period=period, status=status)
        base = {"region": region.code, "periode": period.key}
        status_links = [
            {
                "code": "",
                "label": _("Semua"),
                "count": board.total,
                "url": "?" + urlencode(base),
                "active": status == "",
            },
            *[
                {
                    "code": code,
                    "label": label,
                    "count": board.counts[code],
                    "url": "?" + urlencode({**base, "status": code}),
                    "active": status == code,
                }
                for code, label in activity.BoardStatus.CHOICES
            ],
        ]
        context = {
            "board": board,
            "form": form,
            "status": status,
            "status_links": status_links,
            "export_url": f"{reverse('activity_reports:export')}?{urlencode(base)}",
            "can_review": scope_for(request.user).can(Cap.ACTIVITY_REPORT_REVIEW),
        }
        return render(request, self.template_name, context)


class BoardExportView(BoardAccessMixin, View):
    """The period's reports of the region as one .xlsx (reports with status; figures per program)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        filters = _board_filters(request)
        if filters is None:
            raise PermissionDenied
        _form, region, period, _status = filters
        buffer = io.BytesIO()
        activity.activity_export_write(user=request.user, region=region, period=period, target=buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
        filename = activity.export_filename(region=region, period=period)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
