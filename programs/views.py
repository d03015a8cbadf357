"""Program portal: "Program saya" / region programs with realisation, the overview, program create/edit,
the program page (realisation, by kecamatan, interventions), and logging one intervention.

Every view requires a capability (``ScopedViewMixin``: 403 otherwise) and reads through programs.selectors,
which start from ``for_user`` (out of scope = 404). Writes go through programs.services; a refusal is shown
beside the field it concerns. Leadership reads programs and their aggregates only: it never sees a list of
interventions with household names.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from households import selectors as household_selectors
from households import services as household_services
from households.views import client_ip
from programs import selectors, services
from programs.forms import (
    HouseholdFinderForm,
    InterventionCancelForm,
    InterventionFilterForm,
    InterventionForm,
    ProgramFilterForm,
    ProgramForm,
    apply_domain_error,
)
from programs.models import Intervention, Program
from programs.tables import IdsFirstPaginator, InterventionTable
from tkpk.exceptions import DomainError
from tkpk.scoping import Cap, Role, ScopedViewMixin

PROGRAMS_PER_PAGE = 50
INTERVENTIONS_PER_PAGE = 25
PANEL_DELIVERIES = 20

OVERVIEW_SECTIONS = (
    ("cluster", gettext_lazy("Menurut klaster")),
    ("strategy", gettext_lazy("Menurut strategi")),
    ("organization", gettext_lazy("Menurut OPD/pelaksana")),
    ("funding_source", gettext_lazy("Menurut sumber dana")),
)


class ProgramPortalMixin(ScopedViewMixin):
    required_capability = Cap.PROGRAM_VIEW

    @property
    def region_wide(self) -> bool:
        """Secretariat and leadership see every program of their region; agencies and partners their own."""
        return self.scope.is_superuser or bool(self.scope.grants_for(Role.SECRETARIAT, Role.LEADERSHIP))

    def may_manage(self, program: Program) -> bool:
        if not self.scope.can(Cap.PROGRAM_MANAGE):
            return False
        return services.organizations_for_programs(actor=self.request.user).filter(pk=program.organization_id).exists()

    def may_log(self, program: Program) -> bool:
        return services.programs_for_logging(actor=self.request.user).filter(pk=program.pk).exists()


# ------------------------------------------------------------------------------------------------ lists


class ProgramListView(ProgramPortalMixin, TemplateView):
    """ "Program saya" for agencies and partners, every program of the region for secretariat and leadership."""

    template_name = "programs/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        data = self.request.GET if self.request.GET else {"year": str(timezone.localdate().year)}
        form = ProgramFilterForm(
            data, user=user, years=selectors.program_years(user=user), show_organization=self.region_wide
        )
        programs = selectors.program_list(user=user, filters=form.filters())
        paginator = Paginator(programs, PROGRAMS_PER_PAGE)
        page = paginator.get_page(self.request.GET.get("page"))
        if paginator.num_pages == 1:
            totals = selectors.program_totals_of(list(page.object_list))  # the usual case: no second pass
        else:
            totals = selectors.program_totals(programs=programs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            form=form,
            page_obj=page,
            programs=page.object_list,
            totals=totals,
            region_wide=self.region_wide,
            page_query=query.urlencode(),
            title=_("Program") if self.region_wide else _("Program saya"),
        )
        return context


class ProgramOverviewView(ProgramPortalMixin, TemplateView):
    """Programs of the area by cluster, strategy, OPD and funding source: target, reached, budget, realised."""

    template_name = "programs/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        years = selectors.program_years(user=user)
        try:
            year = int(self.request.GET.get("year", ""))
        except ValueError:
            year = timezone.localdate().year
        sections = []
        for dimension, label in OVERVIEW_SECTIONS:
            rows = selectors.program_overview(user=user, year=year, dimension=dimension)
            total = {
                "programs": sum(r.programs for r in rows),
                "target_households": sum(r.target_households for r in rows),
                "budget": sum(r.budget for r in rows),
                "realised_value": sum(r.realised_value for r in rows),
            }
            sections.append({"key": dimension, "label": label, "rows": rows, "total": total})
        context.update(year=year, years=years, sections=sections, region_wide=self.region_wide)
        return context


# --------------------------------------------------------------------------------------------- programs


class ProgramDetailView(ProgramPortalMixin, TemplateView):
    template_name = "programs/detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        program = selectors.program_fetch(user=user, pk=kwargs["pk"])
        realisation = selectors.program_realisation(program=program)
        program.reached, program.realised_value = realisation.reached, realisation.realised_value  # type: ignore[attr-defined]
        by_kecamatan = realisation.by_kecamatan
        can_log = self.may_log(program)
        # Interventions name households: shown to roles that may read the registry, never to leadership.
        show_interventions = self.scope.can(Cap.REGISTRY_VIEW)
        if show_interventions:
            filter_form = InterventionFilterForm(
                self.request.GET or None, kecamatan_choices=[(row.code, row.name) for row in by_kecamatan]
            )
            interventions = selectors.program_interventions(user=user, program=program, **filter_form.values())
            table = InterventionTable(interventions, can_cancel=can_log)
            RequestConfig(
                self.request, paginate={"per_page": INTERVENTIONS_PER_PAGE, "paginator_class": IdsFirstPaginator}
            ).configure(table)
            context.update(filter_form=filter_form, table=table)
        context.update(
            program=program,
            by_kecamatan=by_kecamatan,
            status_counts=realisation.status_counts,
            target_regions=list(program.target_regions.all()),
            show_interventions=show_interventions,
            can_log=can_log,
            can_edit=self.may_manage(program),
        )
        return context


class ProgramFormView(ProgramPortalMixin, TemplateView):
    template_name = "programs/form.html"
    required_capability = Cap.PROGRAM_MANAGE

    def get_program(self) -> Program | None:
        return None

    def render_form(self, form: ProgramForm, program: Program | None) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form, program=program))

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        program = self.get_program()
        return self.render_form(ProgramForm(instance=program, user=request.user), program)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        program = self.get_program()
        form = ProgramForm(request.POST, instance=program, user=request.user)
        if form.is_valid():
            try:
                saved = self.save(form, program)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("Program %(code)s tersimpan.") % {"code": saved.code})
                return redirect("programs:detail", pk=saved.pk)
        return self.render_form(form, program)

    def save(self, form: ProgramForm, program: Program | None) -> Program:
        target_regions = list(form.cleaned_data["target_regions"])
        attrs = form.service_attrs()
        if program is None:
            organization = attrs.pop("organization")
            return services.program_create(
                actor=self.request.user, organization=organization, target_regions=target_regions, **attrs
            )
        # The form has already written its values onto ``program``; the service gets the stored row, so it
        # checks the owner the program had as well as the one it gets.
        stored = Program.objects.for_user(self.request.user).select_related("organization").get(pk=program.pk)
        return services.program_update(actor=self.request.user, program=stored, target_regions=target_regions, **attrs)


class ProgramCreateView(ProgramFormView):
    pass


class ProgramUpdateView(ProgramFormView):
    def get_program(self) -> Program:
        program = get_object_or_404(Program.objects.for_user(self.request.user), pk=self.kwargs["pk"])
        if not self.may_manage(program):
            raise PermissionDenied
        return program


# ---------------------------------------------------------------------------------------- interventions


def household_panel_context(request: HttpRequest, household_id: int, *, selected_person: str = "") -> dict[str, Any]:
    """The chosen household for the log form: desil, members (NIK masked) and what it already received from
    any program. Opening it is a by-name view of personal data, so it is logged."""
    household = household_selectors.household_get(user=request.user, pk=household_id)
    household_services.household_view_record(actor=request.user, household=household, ip_address=client_ip(request))
    deliveries = list(selectors.household_deliveries(user=request.user, household=household)[:PANEL_DELIVERIES])
    year = timezone.localdate().year
    return {
        "household": household,
        "members": list(household.members.all()),
        "deliveries": deliveries,
        "deliveries_this_year": sum(1 for d in deliveries if d.period_year == year and d.status != "cancelled"),
        "year": year,
        "selected_person": selected_person,
    }


class InterventionLogView(ProgramPortalMixin, TemplateView):
    """Log one delivery: find the household, see its desil and what it already received, choose program,
    date and value, save. Refusals (rules, duplicate) appear beside the field; warnings after saving."""

    template_name = "programs/log.html"
    required_capability = Cap.INTERVENTION_LOG

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        initial: dict[str, Any] = {}
        if request.GET.get("program", "").isdigit():
            initial["program"] = int(request.GET["program"])
        if request.GET.get("household", "").isdigit():
            initial["household"] = int(request.GET["household"])
        form = InterventionForm(initial=initial, user=request.user)
        return self.render_page(form)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = InterventionForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            logged = form.save()
            if logged is not None:
                return self.after_save(logged)
        return self.render_page(form)

    def render_page(self, form: InterventionForm) -> HttpResponse:
        context = self.get_context_data(form=form, finder=HouseholdFinderForm())
        household_id = form.selected_household_id()
        if household_id is not None:
            try:
                context["panel"] = household_panel_context(
                    self.request, household_id, selected_person=str(form["person"].value() or "")
                )
            except Http404:
                pass  # a household outside the officer's scope is simply not shown
        return self.render_to_response(context)

    def after_save(self, logged: services.LoggedIntervention) -> HttpResponseRedirect:
        intervention = logged.intervention
        program = intervention.program
        detail = reverse("programs:detail", args=[program.pk])
        messages.success(
            self.request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("Penyaluran #%(id)s untuk %(name)s tersimpan (%(status)s).")
                % {
                    "id": intervention.pk,
                    "name": intervention.household.head_name,
                    "status": intervention.get_status_display(),
                },
                detail,
                _("Lihat program %(code)s") % {"code": program.code},
            ),
        )
        for warning in logged.warnings:
            messages.warning(self.request, _("Perhatian: %(message)s") % {"message": warning.message})
        if self.request.POST.get("next") == "again":
            return redirect(f"{reverse('programs:log')}?program={program.pk}")
        return redirect(detail)


class HouseholdFinderView(ProgramPortalMixin, View):
    """htmx: up to ten households matching what the officer types (name, exact NIK, ID Keluarga, desa)."""

    required_capability = Cap.INTERVENTION_LOG

    def get(self, request: HttpRequest) -> HttpResponse:
        form = HouseholdFinderForm(request.GET)
        results = None
        if form.has_criteria():
            criteria = form.criteria()
            results = selectors.household_finder(
                user=request.user,
                name=criteria["name"],
                nik=criteria["nik"],
                id_keluarga=criteria["id_keluarga"],
                region=criteria["desa"],
            )
        return render(request, "programs/_household_results.html", {"form": form, "results": results})


class HouseholdPanelView(ProgramPortalMixin, View):
    """htmx: the chosen household's panel inside the log form (logged as a personal-data view)."""

    required_capability = Cap.INTERVENTION_LOG

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render(request, "programs/_household_panel.html", household_panel_context(request, pk))


class InterventionCancelView(ProgramPortalMixin, View):
    """POST: cancel a delivery with a reason (it stops counting for realisation and duplicates)."""

    required_capability = Cap.INTERVENTION_LOG

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        intervention = get_object_or_404(Intervention.objects.for_user(request.user), pk=pk)
        form = InterventionCancelForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Alasan pembatalan wajib diisi."))
        else:
            try:
                services.intervention_cancel(
                    actor=request.user, intervention=intervention, reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Penyaluran #%(id)s dibatalkan.") % {"id": intervention.pk})
        return redirect("programs:detail", pk=intervention.program_id)
