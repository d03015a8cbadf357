"""The partner (company) CSR portal, ``/mitra-csr/``: its allocation as a BNBA list (NIK masked) with the
deadline, its proposals (form, status timeline, actions, agreement, deliveries) and its refusal letter.

A partner sees only its own organization's rows: every fetch goes through ``for_user`` (another company's
proposal, agreement or letter is a 404) and the rules are the services'. Opening or downloading a by-name
list is logged with ``personal_data_access_record``."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from csr import selectors, services
from csr.forms_portal import (
    AdditionalTargetFormSet,
    DeliveryForm,
    ProposalActionForm,
    ProposalForm,
    RefusalForm,
    desa_choices_for,
)
from csr.models import (
    Agreement,
    CsrCycle,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    ProposalTransition,
    Refusal,
    VerificationResult,
)
from households.models import Household
from households.views import client_ip
from programs.forms import apply_domain_error
from programs.models import Intervention
from tkpk.exceptions import DomainError
from tkpk.models import AccessAction, Organization
from tkpk.scoping import Cap, ScopedViewMixin
from tkpk.services import personal_data_access_record
from tkpk.xlsx import XLSX_CONTENT_TYPE, xlsx_write

BNBA_PAGE_SIZE = 50
EXPORT_CHUNK = 2000
# Up to this many allocated households the proposal form lists them one by one; beyond it the partner picks
# whole needs or desa (the households it already chose stay listed).
PICK_LIMIT = 1500
DELIVERIES_SHOWN = 200

STATUS_BADGES: dict[str, str] = {
    ProposalStatus.DRAFT: "secondary",
    ProposalStatus.SUBMITTED: "primary",
    ProposalStatus.RETURNED: "warning",
    ProposalStatus.VERIFIED: "info",
    ProposalStatus.AGREED: "success",
    ProposalStatus.IMPLEMENTED: "success",
    ProposalStatus.REPORTED: "dark",
    ProposalStatus.WITHDRAWN: "light",
}
VERIFICATION_BADGES: dict[str, str] = {
    VerificationResult.PENDING: "secondary",
    VerificationResult.ELIGIBLE: "success",
}


# ------------------------------------------------------------------------------------------------ helpers


class PortalMixin(ScopedViewMixin):
    required_capability = Cap.CSR_PARTICIPATE


def _organization(request: HttpRequest, *, required: bool = False) -> Organization | None:
    """The partner organization the user works for now (``?org=`` picks one of several; another is a 404)."""
    organizations = selectors.partner_organizations(user=request.user)
    wanted = request.GET.get("org") or request.POST.get("org") or ""
    if wanted:
        found = next((o for o in organizations if str(o.pk) == wanted), None)
        if found is None:
            raise Http404(_("Organisasi tidak ditemukan."))
        return found
    if not organizations and required:
        raise Http404(_("Akun Anda tidak terhubung dengan organisasi mitra."))
    return organizations[0] if organizations else None


def _cycle(request: HttpRequest, *, required: bool = False) -> CsrCycle | None:
    """The cycle shown (``?cycle=`` picks another visible one; the current one by default)."""
    wanted = request.GET.get("cycle") or request.POST.get("cycle") or ""
    if wanted:
        if not wanted.isdigit():
            raise Http404(_("Siklus CSR tidak ditemukan."))
        found: CsrCycle = get_object_or_404(selectors.cycles_for(user=request.user), pk=int(wanted))
        return found
    cycle = selectors.current_cycle(user=request.user)
    if cycle is None and required:
        raise Http404(_("Belum ada siklus CSR."))
    return cycle


def _query(organization: Organization, cycle: CsrCycle) -> str:
    return urlencode({"org": organization.pk, "cycle": cycle.pk})


def _home_url(organization: Organization, cycle: CsrCycle) -> str:
    return f"{reverse('csr_portal:home')}?{_query(organization, cycle)}"


def deadline_text(info: selectors.DeadlineInfo) -> str:
    """ "Batas pengajuan: 15 Desember 2026 23:59 (sisa 13 hari)" / "(sudah lewat)" / "dibuka kembali sampai …"."""
    when = date_format(timezone.localtime(info.deadline), "j F Y H:i")
    if info.is_open:
        left = (
            ngettext("sisa %(n)d hari", "sisa %(n)d hari", info.days_left) % {"n": info.days_left}
            if info.days_left > 0
            else _("hari terakhir")
        )
        if info.reopened:
            return _("Pengajuan dibuka kembali sampai %(when)s (%(left)s)") % {"when": when, "left": left}
        return _("Batas pengajuan: %(when)s (%(left)s)") % {"when": when, "left": left}
    if info.deadline < timezone.now():
        return _("Batas pengajuan: %(when)s (sudah lewat)") % {"when": when}
    return _("Batas pengajuan: %(when)s (pengajuan ditutup oleh sekretariat)") % {"when": when}


def _log_rows(request: HttpRequest, *, action: str, object_type: str, ids: list[int], region: str, detail: str) -> None:
    personal_data_access_record(
        user=request.user,
        action=AccessAction(action),
        object_type=object_type,
        object_ids=ids,
        region_code=region,
        detail=detail[:300],
        ip_address=client_ip(request),
    )


def _proposal(request: HttpRequest, pk: int) -> Proposal:
    """A proposal of the user's organization (another company's is a 404)."""
    proposal: Proposal = get_object_or_404(
        Proposal.objects.for_user(request.user).select_related(
            "organization", "cycle", "assistance_kind", "cluster", "strategy", "program"
        ),
        pk=pk,
    )
    return proposal


def _partner_actions(request: HttpRequest, proposal: Proposal) -> list[str]:
    """The workflow steps the partner may take now (the secretariat's steps are not offered here)."""
    return [
        action
        for action in services.available_actions(actor=request.user, proposal=proposal)
        if services.TRANSITIONS[action][2] == services.PARTNER
    ]


# --------------------------------------------------------------------------------------------------- home


class PortalHomeView(PortalMixin, TemplateView):
    """The partner's cycle at a glance: deadline, counts, its allocation (paged, logged), proposals, refusal."""

    template_name = "csr/portal/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        organization = _organization(self.request)
        cycle = _cycle(self.request)
        context.update(
            organization=organization,
            organizations=selectors.partner_organizations(user=user),
            cycle=cycle,
            cycles=list(selectors.cycles_for(user=user)),
        )
        if organization is None or cycle is None:
            return context
        info = selectors.deadline_info(cycle=cycle, organization_id=organization.pk)
        allocations = selectors.allocations(user=user, cycle=cycle, organization_id=organization.pk)
        paginator = Paginator(allocations, BNBA_PAGE_SIZE)
        page = paginator.get_page(self.request.GET.get("page"))
        rows = selectors.bnba_rows(
            user=user,
            cycle=cycle,
            organization_id=organization.pk,
            offset=page.start_index() - 1 if paginator.count else 0,
            limit=BNBA_PAGE_SIZE,
        )
        if rows:
            _log_rows(
                self.request,
                action=AccessAction.VIEW_HOUSEHOLD,
                object_type="csr.allocation",
                ids=[row["household"].pk for row in rows],
                region=cycle.region_id,
                detail=f"{organization.short_code} {cycle.name} halaman {page.number}",
            )
        by_need = list(
            allocations.order_by()
            .values("assistance_kind__name")
            .annotate(n=Count("household_id", distinct=True))
            .order_by("assistance_kind__name")
        )
        proposals = list(
            selectors.proposals_for(user=user, cycle=cycle).filter(organization=organization).order_by("-created_at")
        )
        for proposal in proposals:
            proposal.badge = STATUS_BADGES.get(proposal.status, "secondary")  # type: ignore[attr-defined]
        context.update(
            query=_query(organization, cycle),
            deadline=info,
            deadline_text=deadline_text(info),
            page=page,
            rows=rows,
            household_count=allocations.order_by().values("household_id").distinct().count(),
            by_need=by_need,
            proposals=proposals,
            refusal=selectors.refusals_for(user=user, cycle=cycle).filter(organization=organization).first(),
            can_propose=info.is_open,
            # A letter is refused while a proposal is in the workflow (the service says so); no button then.
            can_refuse=not any(p.status not in (ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN) for p in proposals),
        )
        return context


class AllocationExportView(PortalMixin, View):
    """The partner's allocation as .xlsx (NIK masked), streamed in chunks; logged with every household id."""

    def get(self, request: HttpRequest) -> HttpResponseBase:
        organization = _organization(request, required=True)
        cycle = _cycle(request, required=True)
        assert organization is not None and cycle is not None
        ids: list[int] = []

        def rows() -> Iterator[list[Any]]:
            offset = 0
            while True:
                chunk = selectors.bnba_rows(
                    user=request.user, cycle=cycle, organization_id=organization.pk, offset=offset, limit=EXPORT_CHUNK
                )
                for row in chunk:
                    ids.append(row["household"].pk)
                    yield [
                        len(ids),
                        row["name"],
                        row["nik"],
                        row["address"],
                        row["rt"],
                        row["rw"],
                        row["desa"],
                        row["desil"],
                        row["need"],
                        ", ".join(row["unmet_needs"]),
                    ]
                if len(chunk) < EXPORT_CHUNK:
                    return
                offset += EXPORT_CHUNK

        headers = [
            _("Nomor"),
            _("Nama kepala keluarga"),
            _("NIK (disamarkan)"),
            _("Alamat"),
            _("RT"),
            _("RW"),
            _("Desa/kelurahan"),
            _("Desil"),
            _("Kebutuhan"),
            _("Kebutuhan belum terpenuhi"),
        ]
        handle = tempfile.TemporaryFile(suffix=".xlsx")  # FileResponse closes it
        count = xlsx_write(handle, title=_("Alokasi sasaran"), headers=headers, rows=rows())
        _log_rows(
            request,
            action=AccessAction.EXPORT,
            object_type="csr.allocation",
            ids=ids,
            region=cycle.region_id,
            detail=_("%(org)s %(cycle)s: %(n)s baris")
            % {"org": organization.short_code, "cycle": cycle.name, "n": count},
        )
        handle.seek(0)
        filename = f"alokasi-csr-{organization.short_code}-{cycle.year}-{cycle.pk}.xlsx"
        return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


# ----------------------------------------------------------------------------------------------- proposals


class ProposalFormView(PortalMixin, TemplateView):
    """New proposal (``?org=&cycle=``) or edit of a draft/returned one: fields, targets, additional families."""

    template_name = "csr/portal/proposal_form.html"

    def setup_objects(self, pk: int | None) -> None:
        self.proposal: Proposal | None = _proposal(self.request, pk) if pk is not None else None
        if self.proposal is not None:
            if self.proposal.status not in services.EDITABLE:
                raise Http404(_("Usulan ini tidak dapat diubah lagi."))
            self.organization: Organization = self.proposal.organization
            self.cycle: CsrCycle = self.proposal.cycle
        else:
            organization = _organization(self.request, required=True)
            cycle = _cycle(self.request, required=True)
            assert organization is not None and cycle is not None
            self.organization, self.cycle = organization, cycle
        self.allocated = selectors.allocations(
            user=self.request.user, cycle=self.cycle, organization_id=self.organization.pk
        )

    def forms(self, data: Any = None) -> tuple[ProposalForm, Any]:
        allowed = set(self.allocated.values_list("household_id", flat=True))
        needs = (
            self.allocated.order_by()
            .exclude(assistance_kind__isnull=True)
            .values("assistance_kind_id", "assistance_kind__name")
            .annotate(n=Count("household_id", distinct=True))
            .order_by("assistance_kind__name")
        )
        desa = (
            self.allocated.order_by()
            .values("household__desa_id", "household__desa__name")
            .annotate(n=Count("household_id", distinct=True))
            .order_by("household__desa__name")
        )
        need_choices = [(row["assistance_kind_id"], f"{row['assistance_kind__name']} ({row['n']})") for row in needs]
        desa_choices = [(row["household__desa_id"], f"{row['household__desa__name']} ({row['n']})") for row in desa]
        initial: dict[str, Any] = {}
        additional_initial: list[dict[str, Any]] = []
        if self.proposal is not None:
            initial = {name: getattr(self.proposal, name) for name in ProposalForm.ATTRS}
            targets = list(self.proposal.targets.all())
            initial["household_ids"] = [t.household_id for t in targets if not t.is_additional]
            additional_initial = [
                {
                    "name": t.proposed_name,
                    "address": t.proposed_address,
                    "desa": t.proposed_desa_id,
                    "reason": t.additional_reason,
                }
                for t in targets
                if t.is_additional and t.household_id is None
            ]
        else:
            contact = self.organization.contacts.order_by("-is_primary", "name").first()
            if contact is not None:
                initial.update(contact_name=contact.name, contact_phone=contact.phone, contact_email=contact.email)
            initial["starts_on"] = timezone.localdate()
        form = ProposalForm(
            data,
            initial=initial,
            allowed_households=allowed,
            need_choices=need_choices,
            desa_choices=desa_choices,
            proposal=self.proposal,
        )
        formset = AdditionalTargetFormSet(
            data,
            initial=additional_initial,
            prefix="tambahan",
            form_kwargs={"desa_choices": desa_choices_for(self.organization)},
        )
        return form, formset

    def pick_rows(self, form: ProposalForm) -> tuple[list[dict[str, Any]], bool]:
        """The allocation as checkbox rows (one per household, its needs joined), or only the chosen ones when
        the allocation is longer than PICK_LIMIT."""
        if form.is_bound:
            chosen = {int(v) for v in self.request.POST.getlist("household_ids") if str(v).isdigit()}
        else:
            chosen = set(form.initial.get("household_ids") or [])
        total = self.allocated.order_by().values("household_id").distinct().count()
        too_many = total > PICK_LIMIT
        if too_many:
            allocations = self.allocated.filter(household_id__in=chosen)
        else:
            allocations = self.allocated
        grouped: dict[int, dict[str, Any]] = {}
        for allocation in allocations:
            household = allocation.household
            row = grouped.get(household.pk)
            if row is None:
                row = grouped[household.pk] = {
                    "id": household.pk,
                    "name": household.head_name,
                    "rt": household.rt,
                    "rw": household.rw,
                    "desa": household.desa.name,
                    "desa_id": household.desa_id,
                    "desil": household.desil,
                    "needs": [],
                    "checked": household.pk in chosen,
                }
            if allocation.assistance_kind is not None:
                row["needs"].append(allocation.assistance_kind.name)
        return list(grouped.values()), too_many

    def render_forms(self, form: ProposalForm, formset: Any, status: int = 200) -> HttpResponse:
        rows, too_many = self.pick_rows(form)
        if rows:
            _log_rows(
                self.request,
                action=AccessAction.VIEW_HOUSEHOLD,
                object_type="csr.allocation",
                ids=[row["id"] for row in rows],
                region=self.cycle.region_id,
                detail=f"{self.organization.short_code} {self.cycle.name} formulir usulan",
            )
        context = self.get_context_data(
            form=form,
            formset=formset,
            proposal=self.proposal,
            organization=self.organization,
            cycle=self.cycle,
            query=_query(self.organization, self.cycle),
            pick_rows=rows,
            too_many=too_many,
            pick_limit=PICK_LIMIT,
            deadline_text=deadline_text(
                selectors.deadline_info(cycle=self.cycle, organization_id=self.organization.pk)
            ),
        )
        return self.render_to_response(context, status=status)

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        self.setup_objects(pk)
        form, formset = self.forms()
        return self.render_forms(form, formset)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        self.setup_objects(pk)
        form, formset = self.forms(request.POST)
        if not (form.is_valid() and formset.is_valid()):
            return self.render_forms(form, formset)
        household_ids = set(form.cleaned_data["household_ids"])
        bulk = self.allocated.order_by()
        if form.cleaned_data["all_needs"]:
            household_ids |= set(
                bulk.filter(assistance_kind_id__in=form.cleaned_data["all_needs"]).values_list(
                    "household_id", flat=True
                )
            )
        if form.cleaned_data["all_desa"]:
            household_ids |= set(
                bulk.filter(household__desa_id__in=form.cleaned_data["all_desa"]).values_list("household_id", flat=True)
            )
        additional = [
            item.target() for item in formset.forms if item.is_filled() and not item.cleaned_data.get("DELETE")
        ]
        try:
            if self.proposal is None:
                proposal = services.proposal_create(
                    actor=request.user,
                    organization=self.organization,
                    cycle=self.cycle,
                    household_ids=sorted(household_ids),
                    additional=additional,
                    **form.service_attrs(),
                )
                messages.success(request, _("Usulan disimpan sebagai draf."))
            else:
                proposal = services.proposal_update(
                    actor=request.user,
                    proposal=self.proposal,
                    household_ids=sorted(household_ids),
                    additional=additional,
                    **form.service_attrs(),
                )
                messages.success(request, _("Perubahan usulan disimpan."))
        except DomainError as exc:
            apply_domain_error(form, exc)
            return self.render_forms(form, formset)
        return redirect("csr_portal:proposal-detail", pk=proposal.pk)


class ProposalDetailView(PortalMixin, TemplateView):
    """One proposal: fields, targets with their verification, timeline, actions, agreement and deliveries."""

    template_name = "csr/portal/proposal_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        proposal = _proposal(self.request, kwargs["pk"])
        targets = list(
            ProposalTarget.objects.for_user(user)
            .filter(proposal=proposal)
            .select_related("household", "household__desa", "proposed_desa")
            .order_by("is_additional", "household__desa__name", "household__head_name", "id")
        )
        for target in targets:
            target.badge = VERIFICATION_BADGES.get(target.verification, "danger")  # type: ignore[attr-defined]
        household_ids = [t.household_id for t in targets if t.household_id is not None]
        if household_ids:
            _log_rows(
                self.request,
                action=AccessAction.VIEW_HOUSEHOLD,
                object_type="csr.proposal_target",
                ids=household_ids,
                region=proposal.cycle.region_id,
                detail=f"usulan {proposal.pk}",
            )
        deliveries: list[Intervention] = []
        delivery_count = 0
        if proposal.program_id is not None:
            delivered = Intervention.objects.for_user(user).filter(program_id=proposal.program_id)
            delivery_count = delivered.count()
            deliveries = list(
                delivered.select_related("household", "household__desa").order_by("-delivered_on", "-id")[
                    :DELIVERIES_SHOWN
                ]
            )
        agreement = Agreement.objects.for_user(user).filter(proposal=proposal).first()
        actions = _partner_actions(self.request, proposal)
        context.update(
            proposal=proposal,
            badge=STATUS_BADGES.get(proposal.status, "secondary"),
            organization=proposal.organization,
            cycle=proposal.cycle,
            query=_query(proposal.organization, proposal.cycle),
            targets=targets,
            eligible_count=sum(1 for t in targets if t.verification == VerificationResult.ELIGIBLE),
            transitions=list(
                ProposalTransition.objects.for_user(user)
                .filter(proposal=proposal)
                .select_related("actor")
                .order_by("at", "id")
            ),
            actions=[(action, services.action_label(action)) for action in actions],
            editable=proposal.status in services.EDITABLE,
            agreement=agreement,
            deliveries=deliveries,
            delivery_count=delivery_count,
            can_deliver=proposal.status in (ProposalStatus.AGREED, ProposalStatus.IMPLEMENTED)
            and proposal.program_id is not None,
            deadline_text=deadline_text(
                selectors.deadline_info(cycle=proposal.cycle, organization_id=proposal.organization_id)
            ),
        )
        return context


class ProposalActionView(PortalMixin, View):
    """POST: the partner's workflow step (submit, withdraw, implement, report); refusals shown as messages."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = _proposal(request, pk)
        form = ProposalActionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Tindakan tidak dikenal."))
            return redirect("csr_portal:proposal-detail", pk=proposal.pk)
        action = form.cleaned_data["action"]
        if services.TRANSITIONS[action][2] != services.PARTNER:
            messages.error(request, _("Tindakan ini dilakukan oleh sekretariat TKPK, bukan dari portal mitra."))
            return redirect("csr_portal:proposal-detail", pk=proposal.pk)
        details: dict[str, Any] = {}
        if action == "report":
            details["final_report"] = form.cleaned_data["final_report"]
        try:
            proposal = services.proposal_transition(
                actor=request.user, proposal=proposal, action=action, note=form.cleaned_data["note"], **details
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Status usulan sekarang: %(status)s.") % {"status": proposal.get_status_display()},
            )
        return redirect("csr_portal:proposal-detail", pk=proposal.pk)


class AgreementPdfView(PortalMixin, View):
    """GET: the agreement PDF of the partner's own proposal (never a public media URL); logged."""

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        agreement = get_object_or_404(
            Agreement.objects.for_user(request.user).select_related("proposal__cycle"), proposal_id=pk
        )
        if not agreement.pdf:
            raise Http404(_("Berkas PKS belum dibuat."))
        household_ids = list(
            agreement.proposal.targets.filter(verification=VerificationResult.ELIGIBLE)
            .exclude(household__isnull=True)
            .values_list("household_id", flat=True)
        )
        _log_rows(
            request,
            action=AccessAction.EXPORT,
            object_type="csr.agreement",
            ids=[int(pk) for pk in household_ids if pk is not None],
            region=agreement.proposal.cycle.region_id,
            detail=f"PKS {agreement.number}",
        )
        filename = f"pks-{agreement.number}".replace("/", "-").replace(" ", "-") + ".pdf"
        return FileResponse(
            agreement.pdf.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
        )


class DeliveryCreateView(PortalMixin, TemplateView):
    """Report one delivery to an eligible target of the partner's agreed proposal."""

    template_name = "csr/portal/delivery_form.html"

    def choices(self, proposal: Proposal) -> list[tuple[int, str]]:
        targets = (
            ProposalTarget.objects.for_user(self.request.user)
            .filter(proposal=proposal, verification=VerificationResult.ELIGIBLE, household__isnull=False)
            .select_related("household", "household__desa")
            .order_by("household__desa__name", "household__head_name")
        )
        return [
            (t.household.pk, f"{t.household.head_name} — {t.household.desa.name}")
            for t in targets
            if t.household is not None
        ]

    def respond(self, proposal: Proposal, form: DeliveryForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(proposal=proposal, form=form))

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = _proposal(request, pk)
        form = DeliveryForm(initial={"delivered_on": timezone.localdate()}, household_choices=self.choices(proposal))
        return self.respond(proposal, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = _proposal(request, pk)
        form = DeliveryForm(request.POST, household_choices=self.choices(proposal))
        if not form.is_valid():
            return self.respond(proposal, form)
        household = get_object_or_404(Household.objects.for_user(request.user), pk=form.cleaned_data["household"])
        try:
            services.delivery_record(
                actor=request.user,
                proposal=proposal,
                household=household,
                delivered_on=form.cleaned_data["delivered_on"],
                value=form.cleaned_data["value"],
                quantity=form.cleaned_data["quantity"],
                note=form.cleaned_data["note"] or "",
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
            return self.respond(proposal, form)
        messages.success(request, _("Penyaluran untuk %(name)s dicatat.") % {"name": household.head_name})
        return redirect("csr_portal:proposal-detail", pk=proposal.pk)


# ------------------------------------------------------------------------------------------------ refusals


class RefusalCreateView(PortalMixin, TemplateView):
    """The written statement of not taking part (``?org=&cycle=``); the letter is generated as a PDF."""

    template_name = "csr/portal/refusal_form.html"

    def objects(self) -> tuple[Organization, CsrCycle]:
        organization = _organization(self.request, required=True)
        cycle = _cycle(self.request, required=True)
        assert organization is not None and cycle is not None
        return organization, cycle

    def respond(self, organization: Organization, cycle: CsrCycle, form: RefusalForm) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(organization=organization, cycle=cycle, form=form, query=_query(organization, cycle))
        )

    def existing(self, organization: Organization, cycle: CsrCycle) -> Refusal | None:
        return selectors.refusals_for(user=self.request.user, cycle=cycle).filter(organization=organization).first()

    def get(self, request: HttpRequest) -> HttpResponse:
        organization, cycle = self.objects()
        refusal = self.existing(organization, cycle)
        if refusal is not None:
            return redirect("csr_portal:refusal-detail", pk=refusal.pk)
        contact = organization.contacts.order_by("-is_primary", "name").first()
        initial = {"signatory_name": contact.name, "signatory_position": contact.position} if contact else {}
        return self.respond(organization, cycle, RefusalForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        organization, cycle = self.objects()
        form = RefusalForm(request.POST)
        if not form.is_valid():
            return self.respond(organization, cycle, form)
        try:
            refusal = services.refusal_submit(
                actor=request.user,
                organization=organization,
                cycle=cycle,
                reason=form.cleaned_data["reason"],
                signatory_name=form.cleaned_data["signatory_name"],
                signatory_position=form.cleaned_data["signatory_position"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
            return self.respond(organization, cycle, form)
        messages.success(request, _("Surat tidak berpartisipasi dibuat dan dikirim ke sekretariat TKPK."))
        return redirect("csr_portal:refusal-detail", pk=refusal.pk)


class RefusalDetailView(PortalMixin, TemplateView):
    template_name = "csr/portal/refusal_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        refusal = get_object_or_404(
            Refusal.objects.for_user(self.request.user).select_related("organization", "cycle", "cycle__region"),
            pk=kwargs["pk"],
        )
        context.update(
            refusal=refusal,
            organization=refusal.organization,
            cycle=refusal.cycle,
            query=_query(refusal.organization, refusal.cycle),
            # The letter's addressee, as csr/pdf/refusal.html words it (the same rule as csr.documents).
            is_city=len(refusal.cycle.region_id) == 4 and refusal.cycle.region_id[2:3] in "789",
        )
        return context


class RefusalPdfView(PortalMixin, View):
    """GET: the refusal letter PDF of the partner's own organization (scoped, logged)."""

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        refusal = get_object_or_404(Refusal.objects.for_user(request.user).select_related("cycle"), pk=pk)
        if not refusal.letter_pdf:
            raise Http404(_("Surat belum dibuat."))
        _log_rows(
            request,
            action=AccessAction.EXPORT,
            object_type="csr.refusal_letter",
            ids=[refusal.pk],
            region=refusal.cycle.region_id,
            detail=refusal.letter_number,
        )
        filename = f"surat-{refusal.letter_number}".replace("/", "-").replace(" ", "-") + ".pdf"
        return FileResponse(
            refusal.letter_pdf.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
        )
