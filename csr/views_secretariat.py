"""Secretariat pages of the CSR portal (/csr/, Cap.CSR_MANAGE): cycles, the allocation tool with its map,
allocations, the proposal review (field verification, agreement) and refusals. Views are thin: forms check
shape, csr.services decides, csr.selectors* read; every by-name page and file download is logged."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from csr import selectors, services
from csr import selectors_allocation as allocation_selectors
from csr import selectors_secretariat as secretariat
from csr.forms_secretariat import VERIFY_CHOICES, AgreeForm, AllocateForm, CycleForm, NoteForm, ReleaseForm, ReopenForm
from csr.models import Agreement, Allocation, AllocationSource, CsrCycle, ProposalStatus, Refusal, VerificationResult
from households.models import Household
from households.selectors import HouseholdFilters, household_search
from households.views import client_ip
from programs.models import AssistanceKind
from reports.selectors import gap_list_filters_parse, need_labels
from tkpk.exceptions import DomainError
from tkpk.identifiers import clean_digits, mask_identifier
from tkpk.models import AccessAction, Organization
from tkpk.scoping import Cap, ScopedViewMixin
from tkpk.services import personal_data_access_record

ALLOCATIONS_PER_PAGE = 50
SEARCH_RESULTS = 10


class SecretariatView(ScopedViewMixin):
    required_capability = Cap.CSR_MANAGE


def _log_view(request: HttpRequest, object_type: str, ids: list[int], region: str, detail: str = "") -> None:
    if ids:
        personal_data_access_record(
            user=request.user,
            action=AccessAction.VIEW_HOUSEHOLD,
            object_type=object_type,
            object_ids=ids,
            region_code=region,
            detail=detail[:300],
            ip_address=client_ip(request),
        )


def _validation_messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [f"{message}" for messages_ in exc.message_dict.values() for message in messages_]
    return [str(m) for m in exc.messages]


# ------------------------------------------------------------------------------------------------- cycles


class CycleListView(SecretariatView, TemplateView):
    template_name = "csr/secretariat/cycle_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        cycles = [c for c in selectors.cycles_for(user=user) if services.may_manage_cycle(actor=user, cycle=c)]
        counts = secretariat.cycle_counts(user=user, cycles=cycles)
        context.update(
            rows=[(c, counts[c.pk]) for c in cycles],
            can_create=secretariat.cycle_regions(user=user).exists(),
        )
        return context


class CycleFormView(SecretariatView, View):
    """New cycle (``pk`` absent) or edit one."""

    template_name = "csr/secretariat/cycle_form.html"

    def _cycle(self, pk: int | None) -> CsrCycle | None:
        return secretariat.managed_cycle(user=self.request.user, pk=pk) if pk else None

    def _form(self, cycle: CsrCycle | None, data: Any = None) -> CycleForm:
        initial: dict[str, Any] = {}
        if cycle is not None:
            initial = {
                name: getattr(cycle, name)
                for name in (
                    "year",
                    "name",
                    "proposal_deadline",
                    "verification_starts",
                    "verification_ends",
                    "realisation_deadline",
                    "status",
                    "required_sectors",
                    "note",
                )
            }
        return CycleForm(
            data,
            initial=initial,
            regions=secretariat.cycle_regions(user=self.request.user),
            editing=cycle is not None,
        )

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        cycle = self._cycle(pk)
        return render(request, self.template_name, {"form": self._form(cycle), "cycle": cycle})

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        cycle = self._cycle(pk)
        form = self._form(cycle, request.POST)
        if form.is_valid():
            attrs = dict(form.cleaned_data)
            region = attrs.pop("region", None)
            try:
                if cycle is None:
                    cycle = services.cycle_create(actor=request.user, region=region, **attrs)
                    messages.success(request, _("Siklus %(name)s dibuat.") % {"name": cycle.name})
                else:
                    services.cycle_update(actor=request.user, cycle=cycle, **attrs)
                    messages.success(request, _("Siklus %(name)s disimpan.") % {"name": cycle.name})
                return redirect("csr:cycle-detail", pk=cycle.pk)
            except DomainError as exc:
                form.add_error(None, exc.message)
            except ValidationError as exc:
                for message in _validation_messages(exc):
                    form.add_error(None, message)
            if pk:
                cycle = self._cycle(pk)  # the unsaved changes stay in the form, not in the header
        return render(request, self.template_name, {"form": form, "cycle": cycle}, status=400)


class CycleDetailView(SecretariatView, TemplateView):
    template_name = "csr/secretariat/cycle_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        cycle = secretariat.managed_cycle(user=user, pk=kwargs["pk"])
        context.update(
            cycle=cycle,
            counts=secretariat.cycle_counts(user=user, cycles=[cycle])[cycle.pk],
            partners=secretariat.cycle_partners(user=user, cycle=cycle),
            statuses=dict(secretariat.status_labels()),
            reopen_form=ReopenForm(),
        )
        return context


class CycleReopenView(SecretariatView, View):
    """POST: reopen submission for one partner (until + note)."""

    def post(self, request: HttpRequest, pk: int, organization_pk: int) -> HttpResponse:
        cycle = secretariat.managed_cycle(user=request.user, pk=pk)
        organization = get_object_or_404(Organization.objects.for_user(request.user), pk=organization_pk)
        form = ReopenForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Isi batas baru dan catatan pembukaan kembali."))
            return redirect("csr:cycle-detail", pk=cycle.pk)
        try:
            reopen = services.cycle_reopen(
                actor=request.user, cycle=cycle, organization=organization, **form.cleaned_data
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Pengajuan %(org)s dibuka kembali sampai %(until)s.")
                % {"org": organization.name, "until": reopen.until.strftime("%d-%m-%Y %H:%M")},
            )
        return redirect("csr:cycle-detail", pk=cycle.pk)


# --------------------------------------------------------------------------------------------- allocation


class AllocateView(SecretariatView, View):
    """Choose partner, need and the gap list's filters; see the count of matching households (live, htmx)
    and a sample; allocate them all (or the first N) in one set-based call."""

    template_name = "csr/secretariat/allocate.html"
    partial_name = "csr/secretariat/_allocate_preview.html"

    def _form(self, cycle: CsrCycle, data: Any) -> AllocateForm:
        partners = secretariat.cycle_partner_choices(user=self.request.user, cycle=cycle)
        chosen = None
        raw = (data or {}).get("organization") or self.request.GET.get("organization")
        if raw and str(raw).isdigit():
            chosen = next((p for p in partners if p.pk == int(raw)), None)
        regions = allocation_selectors.area_regions(cycle=cycle, organization=chosen)
        initial: dict[str, Any] = {"organization": chosen} if chosen else {}
        raw_kind = self.request.GET.get("assistance_kind", "")
        if raw_kind.isdigit():
            initial["assistance_kind"] = int(raw_kind)
        return AllocateForm(data, partners=partners, regions=regions, initial=initial)

    def _preview(self, cycle: CsrCycle, form: AllocateForm) -> dict[str, Any]:
        """Count and sample of the candidates (empty when the form is not filled in or not valid)."""
        preview: dict[str, Any] = {"ready": False, "problems": []}
        if not form.is_bound or not form.is_valid():
            return preview
        data = form.cleaned_data
        gap, problems = gap_list_filters_parse(form.gap_params(cycle.year))
        preview["problems"] = problems
        if problems:
            return preview
        filters = allocation_selectors.CandidateFilters(
            gap=gap, not_allocated=data["not_allocated"], override=data["override"]
        )
        try:
            facts = allocation_selectors.allocation_candidates(
                user=self.request.user,
                cycle=cycle,
                organization=data["organization"],
                assistance_kind=data["assistance_kind"],
                filters=filters,
            )
            count = facts.count()
            sample = allocation_selectors.candidate_sample(facts)
            held_by_others = 0
            if not filters.override and not filters.not_allocated:
                with_override = allocation_selectors.allocation_candidates(
                    user=self.request.user,
                    cycle=cycle,
                    organization=data["organization"],
                    assistance_kind=data["assistance_kind"],
                    filters=dataclasses.replace(filters, override=True),
                )
                held_by_others = with_override.count() - count
        except DomainError as exc:
            preview["problems"] = [exc.message]
            return preview
        _log_view(
            self.request,
            "csr_allocation_candidates",
            [f.household_id for f in sample],
            cycle.region_id,
            detail=f"{cycle.pk}:{data['organization'].pk}",
        )
        labels = need_labels()
        preview.update(
            ready=True,
            facts=facts,
            count=count,
            held_by_others=held_by_others,
            to_allocate=min(count, data["limit"]) if data.get("limit") else count,
            sample=[
                {"fact": f, "needs": [labels.get(c, c) for c in f.unmet_needs.strip(",").split(",") if c]}
                for f in sample
            ],
        )
        return preview

    def _context(self, cycle: CsrCycle, form: AllocateForm, preview: dict[str, Any]) -> dict[str, Any]:
        organization = form.cleaned_data.get("organization") if form.is_bound and form.is_valid() else None
        organization = organization or form.initial.get("organization")
        return {
            "cycle": cycle,
            "form": form,
            "preview": preview,
            "organization": organization,
            "area": list(organization.area.order_by("code")) if organization else [],
        }

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        cycle = secretariat.managed_cycle(user=request.user, pk=pk)
        filled = request.GET.get("organization") and request.GET.get("assistance_kind")
        form = self._form(cycle, request.GET if filled else None)
        preview = self._preview(cycle, form)
        if request.headers.get("HX-Target") == "allocate-preview":
            return render(request, self.partial_name, self._context(cycle, form, preview))
        return render(request, self.template_name, self._context(cycle, form, preview))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        cycle = secretariat.managed_cycle(user=request.user, pk=pk)
        form = self._form(cycle, request.POST)
        preview = self._preview(cycle, form)
        context = self._context(cycle, form, preview)
        if not preview["ready"]:
            return render(request, self.template_name, context, status=400)
        if "allocate" not in request.POST:  # the "Hitung" button without JavaScript
            return render(request, self.template_name, context)
        data = form.cleaned_data
        ids = allocation_selectors.candidate_household_ids(preview["facts"], data.get("limit"))
        if not ids:
            messages.warning(request, _("Tidak ada keluarga yang cocok untuk dialokasikan."))
            return render(request, self.template_name, context)
        try:
            result = services.allocations_create(
                actor=request.user,
                cycle=cycle,
                organization=data["organization"],
                assistance_kind=data["assistance_kind"],
                household_ids=ids,
                source=AllocationSource.GAP_LIST,
                override_reason=data["override_reason"] if data["override"] else "",
                note=data.get("note") or "",
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return render(request, self.template_name, context, status=400)
        context["result"] = result
        context["preview"] = self._preview(cycle, self._form(cycle, request.POST))
        return render(request, self.template_name, context)


class AllocationListView(SecretariatView, TemplateView):
    """Active (and optionally released) allocations of a cycle, by partner and need; release one."""

    template_name = "csr/secretariat/allocation_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        request, user = self.request, self.request.user
        cycle = secretariat.managed_cycle(user=user, pk=kwargs["pk"])
        partners = secretariat.cycle_partner_choices(user=user, cycle=cycle)
        raw_org, raw_kind = request.GET.get("organization", ""), request.GET.get("kind", "")
        organization_id = int(raw_org) if raw_org.isdigit() else None
        include_released = request.GET.get("released") == "1"
        rows = selectors.allocations(
            user=user, cycle=cycle, organization_id=organization_id, include_released=include_released
        )
        if raw_kind.isdigit():
            rows = rows.filter(assistance_kind_id=int(raw_kind))
        page = Paginator(rows, ALLOCATIONS_PER_PAGE).get_page(request.GET.get("page"))
        items = [{"allocation": a, "nik": mask_identifier(getattr(a, "head_nik", None))} for a in page]
        _log_view(request, "csr_allocation", [a.household_id for a in page], cycle.region_id, f"{cycle.pk}")
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            cycle=cycle,
            partners=partners,
            kinds=AssistanceKind.objects.filter(is_active=True),
            organization_id=organization_id,
            kind_id=int(raw_kind) if raw_kind.isdigit() else None,
            include_released=include_released,
            page_obj=page,
            items=items,
            query=query.urlencode(),
            release_form=ReleaseForm(),
        )
        return context


class AllocationReleaseView(SecretariatView, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        allocation = get_object_or_404(Allocation.objects.for_user(request.user).select_related("cycle"), pk=pk)
        if allocation.cycle is None or not services.may_manage_cycle(actor=request.user, cycle=allocation.cycle):
            raise Http404
        form = ReleaseForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Tuliskan alasan pengembalian."))
        else:
            try:
                services.allocation_release(
                    actor=request.user, allocation=allocation, reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Alokasi dikembalikan ke daftar sasaran."))
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("csr:allocation-list", args=[allocation.cycle.pk])
        return redirect(target)


class AllocationMapView(SecretariatView, TemplateView):
    """Targets (desil N not yet covered) per kecamatan or per desa: allocated vs unallocated, as a table
    and, when the region has a boundary set, as the gap dashboard's choropleth."""

    template_name = "csr/secretariat/allocation_map.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        request = self.request
        cycle = secretariat.managed_cycle(user=request.user, pk=kwargs["pk"])
        raw_desil, raw_kind = request.GET.get("desil", "1"), request.GET.get("kind", "")
        desil = int(raw_desil) if raw_desil.isdigit() and 1 <= int(raw_desil) <= 10 else 1
        kind = AssistanceKind.objects.filter(pk=int(raw_kind)).first() if raw_kind.isdigit() else None
        try:
            data = allocation_selectors.allocation_map(
                user=request.user, cycle=cycle, region=request.GET.get("region", ""), desil=desil, assistance_kind=kind
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            data = allocation_selectors.allocation_map(
                user=request.user, cycle=cycle, desil=desil, assistance_kind=kind
            )
        context.update(
            cycle=cycle,
            map=data,
            desil_options=range(1, 11),
            kinds=AssistanceKind.objects.filter(is_active=True),
            labels={
                "uncovered": _("Belum dialokasikan"),
                "legend": _("Sasaran belum dialokasikan"),
                "no_data": _("tanpa data"),
            },
        )
        return context


# ------------------------------------------------------------------------------------------------- review


class ReviewQueueView(SecretariatView, TemplateView):
    template_name = "csr/secretariat/review_queue.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        cycle = secretariat.managed_cycle(user=self.request.user, pk=kwargs["pk"])
        context.update(cycle=cycle, proposals=selectors.review_queue(user=self.request.user, cycle=cycle))
        return context


class ProposalReviewView(SecretariatView, TemplateView):
    """One proposal: fields, targets with the overlap check per household, joint field verification per
    target, the actions the secretariat may take now, the agreement."""

    template_name = "csr/secretariat/proposal_review.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        request, user = self.request, self.request.user
        proposal = secretariat.managed_proposal(user=user, pk=kwargs["pk"])
        targets = secretariat.review_targets(proposal=proposal)
        _log_view(
            request,
            "csr_proposal",
            [row.target.household_id for row in targets if row.target.household_id],
            proposal.cycle.region_id,
            f"{proposal.pk}",
        )
        actions = services.available_actions(actor=user, proposal=proposal)
        context.update(
            proposal=proposal,
            cycle=proposal.cycle,
            targets=targets,
            overlap_count=sum(1 for row in targets if row.overlaps),
            can_verify_targets=proposal.status == ProposalStatus.SUBMITTED,
            verify_choices=VERIFY_CHOICES,
            other_result=VerificationResult.OTHER,
            actions=[(a, services.action_label(a)) for a in actions if a != "agree"],
            can_agree="agree" in actions,
            agree_form=AgreeForm(),
            note_form=NoteForm(),
            transitions=list(proposal.transitions.select_related("actor").order_by("at", "id")),
            agreement=getattr(proposal, "agreement", None),
        )
        return context


class ProposalVerifyTargetsView(SecretariatView, View):
    """POST: the joint field verification of every row that changed (result, note, linked household)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = secretariat.managed_proposal(user=request.user, pk=pk)
        saved, errors = 0, []
        for target in proposal.targets.select_related("household").order_by("id"):
            result = request.POST.get(f"result-{target.pk}", "").strip()
            note = request.POST.get(f"note-{target.pk}", "").strip()
            raw_household = clean_digits(request.POST.get(f"household-{target.pk}", ""))
            label = target.household.head_name if target.household else target.proposed_name
            household = None
            if raw_household and target.household_id is None:
                household = Household.objects.for_user(request.user).filter(pk=int(raw_household)).first()
                if household is None:
                    errors.append(
                        _("%(name)s: keluarga dengan ID %(id)s tidak ditemukan di wilayah Anda.")
                        % {"name": label, "id": raw_household}
                    )
                    continue
            if not result or (result == target.verification and note == target.verification_note and not household):
                continue
            try:
                services.target_verify(actor=request.user, target=target, result=result, note=note, household=household)
            except DomainError as exc:
                errors.append(f"{label}: {exc.message}")
            else:
                saved += 1
        if saved:
            messages.success(request, _("Hasil verifikasi %(n)s sasaran disimpan.") % {"n": saved})
        for error in errors:
            messages.error(request, error)
        if not saved and not errors:
            messages.info(request, _("Tidak ada hasil verifikasi yang berubah."))
        return redirect("csr:proposal-review", pk=proposal.pk)


class HouseholdSearchView(SecretariatView, View):
    """htmx: registry households (name or NIK) in the cycle's region to link an additional target to."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = secretariat.managed_proposal(user=request.user, pk=pk)
        query = request.GET.get("q", "").strip()
        target = request.GET.get("target", "")
        households: list[Household] = []
        if len(query) >= 3:
            digits = clean_digits(query)
            filters = (
                HouseholdFilters(nik=digits, region=proposal.cycle.region_id)
                if len(digits) == 16
                else HouseholdFilters(name=query, region=proposal.cycle.region_id)
            )
            households = list(household_search(user=request.user, filters=filters)[:SEARCH_RESULTS])
            _log_view(request, "csr_household_search", [h.pk for h in households], proposal.cycle.region_id, query)
        return render(
            request,
            "csr/secretariat/_household_results.html",
            {"households": households, "target": target if target.isdigit() else "", "query": query},
        )


class ProposalActionView(SecretariatView, View):
    """POST: return with a note, verify, or agree (with the PKS details)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = secretariat.managed_proposal(user=request.user, pk=pk)
        action = request.POST.get("action", "")
        details: dict[str, Any] = {}
        if action == "agree":
            form: AgreeForm | NoteForm = AgreeForm(request.POST)
            if not form.is_valid():
                labels = [str(form.fields[name].label) for name in form.errors if name in form.fields]
                messages.error(request, _("Lengkapi data PKS: %(fields)s.") % {"fields": ", ".join(labels)})
                return redirect("csr:proposal-review", pk=proposal.pk)
            details = {k: v for k, v in form.cleaned_data.items() if k != "note"}
        else:
            form = NoteForm(request.POST)
            form.is_valid()
        note = form.cleaned_data.get("note") or ""
        try:
            proposal = services.proposal_transition(
                actor=request.user, proposal=proposal, action=action, note=note, **details
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Usulan kini berstatus %(status)s.") % {"status": proposal.get_status_display()}
            )
        return redirect("csr:proposal-review", pk=proposal.pk)


def _managed_agreement(request: HttpRequest, pk: int) -> Agreement:
    agreement = (
        Agreement.objects.for_user(request.user).select_related("proposal__cycle").filter(proposal_id=pk).first()
    )
    if agreement is None or not services.may_manage_cycle(actor=request.user, cycle=agreement.proposal.cycle):
        raise Http404
    return agreement


class AgreementPdfView(SecretariatView, View):
    """The stored agreement PDF (its annex lists the targets by name); each download is logged."""

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        agreement = _managed_agreement(request, pk)
        if not agreement.pdf:
            raise Http404(_("PDF perjanjian belum dibuat."))
        ids = list(
            agreement.proposal.targets.filter(verification=VerificationResult.ELIGIBLE, household__isnull=False)
            .order_by("household_id")
            .values_list("household_id", flat=True)
        )
        personal_data_access_record(
            user=request.user,
            action=AccessAction.EXPORT,
            object_type="csr_agreement",
            object_ids=[i for i in ids if i is not None],
            region_code=agreement.proposal.cycle.region_id,
            detail=_("PKS %(number)s") % {"number": agreement.number},
            ip_address=client_ip(request),
        )
        filename = "pks-{}.pdf".format("".join(c if c.isalnum() else "-" for c in agreement.number).strip("-"))
        return FileResponse(
            agreement.pdf.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
        )


class AgreementRefreshView(SecretariatView, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        agreement = _managed_agreement(request, pk)
        services.agreement_pdf_refresh(agreement=agreement)
        messages.success(request, _("PDF perjanjian dibuat ulang."))
        return redirect("csr:proposal-review", pk=pk)


# ----------------------------------------------------------------------------------------------- refusals


class RefusalListView(SecretariatView, TemplateView):
    template_name = "csr/secretariat/refusal_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        cycle = secretariat.managed_cycle(user=self.request.user, pk=kwargs["pk"])
        context.update(
            cycle=cycle,
            refusals=list(
                selectors.refusals_for(user=self.request.user, cycle=cycle).select_related("acknowledged_by")
            ),
            note_form=NoteForm(),
        )
        return context


def _managed_refusal(request: HttpRequest, pk: int) -> Refusal:
    refusal = selectors.refusals_for(user=request.user).filter(pk=pk).first()
    if refusal is None or not services.may_manage_cycle(actor=request.user, cycle=refusal.cycle):
        raise Http404
    return refusal


class RefusalPdfView(SecretariatView, View):
    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        refusal = _managed_refusal(request, pk)
        if not refusal.letter_pdf:
            raise Http404(_("Surat belum dibuat."))
        filename = "surat-{}.pdf".format("".join(c if c.isalnum() else "-" for c in refusal.letter_number).strip("-"))
        return FileResponse(
            refusal.letter_pdf.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
        )


class RefusalAcknowledgeView(SecretariatView, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        refusal = _managed_refusal(request, pk)
        form = NoteForm(request.POST)
        form.is_valid()
        try:
            services.refusal_acknowledge(actor=request.user, refusal=refusal, note=form.cleaned_data.get("note") or "")
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Surat %(number)s diterima.") % {"number": refusal.letter_number})
        return redirect("csr:refusal-list", pk=refusal.cycle_id)
