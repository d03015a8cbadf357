"""CSR business rules: cycles and reopening, allocation of target households, the proposal workflow with
joint field verification, agreements, deliveries (interventions with channel CSR) and written refusals.

Views, the API, the admin and tasks call these; every refusal is a ``DomainError`` with an Indonesian
message. Who may act is checked here (role, scope, own organization), not only in the views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from csr.models import (
    Agreement,
    Allocation,
    AllocationSource,
    AllocationStatus,
    CsrCycle,
    CycleReopen,
    CycleStatus,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    ProposalTransition,
    Refusal,
    VerificationResult,
)
from households.choices import HouseholdStatus
from households.models import Household
from programs.models import AssistanceKind, EntryChannel, FundingSource, Intervention, Program
from tkpk.exceptions import DomainError
from tkpk.history import history_context
from tkpk.models import Organization, OrganizationKind, Region
from tkpk.scoping import Role, scope_for

PARTNER_KINDS = (OrganizationKind.COMPANY, OrganizationKind.BAZNAS, OrganizationKind.BANK, OrganizationKind.NGO)

# ------------------------------------------------------------------------------------------------- access


def _forbidden(message: str | None = None) -> DomainError:
    return DomainError(message or _("Anda tidak berwenang melakukan tindakan ini."), code="forbidden")


def may_manage_cycle(*, actor: Any, cycle: CsrCycle) -> bool:
    """The actor is a secretariat (or superuser) whose region holds the cycle's region."""
    scope = scope_for(actor)
    if scope.is_superuser:
        return True
    code = cycle.region_id
    return any(code.startswith(g.region_code) for g in scope.grants_for(Role.SECRETARIAT))


def may_act_for(*, actor: Any, organization_id: int) -> bool:
    """The actor is a partner user of this organization (superusers may act for anyone)."""
    scope = scope_for(actor)
    if scope.is_superuser:
        return True
    return any(g.organization_id == organization_id for g in scope.grants_for(Role.PARTNER))


def _check_manage(actor: Any, cycle: CsrCycle) -> None:
    if not may_manage_cycle(actor=actor, cycle=cycle):
        raise _forbidden(_("Hanya sekretariat TKPK wilayah siklus ini yang dapat melakukan tindakan ini."))


def _check_partner(actor: Any, organization: Organization) -> None:
    if not may_act_for(actor=actor, organization_id=organization.pk):
        raise _forbidden(_("Anda hanya dapat bertindak untuk organisasi Anda sendiri."))


def _check_partner_organization(organization: Organization, cycle: CsrCycle) -> None:
    if organization.kind not in PARTNER_KINDS:
        raise DomainError(_("Organisasi ini bukan mitra (perusahaan/lembaga)."), code="not_partner")
    if not organization.is_active:
        raise DomainError(_("Mitra ini tidak aktif."), code="inactive_partner")
    if not (organization.region_id.startswith(cycle.region_id) or cycle.region_id.startswith(organization.region_id)):
        raise DomainError(_("Mitra ini tidak terdaftar di wilayah siklus CSR ini."), code="partner_out_of_region")


# ------------------------------------------------------------------------------------------------- cycles


@transaction.atomic
def cycle_create(*, actor: Any, region: Region, **attrs: Any) -> CsrCycle:
    """A new cycle of ``region`` (attrs: year, name, proposal_deadline, verification_starts/ends,
    realisation_deadline, required_sectors, note)."""
    cycle = CsrCycle(region=region, created_by=actor, **attrs)
    _check_manage(actor, cycle)
    cycle.full_clean()
    cycle.save()
    return cycle


@transaction.atomic
def cycle_update(*, actor: Any, cycle: CsrCycle, **attrs: Any) -> CsrCycle:
    _check_manage(actor, cycle)
    for name, value in attrs.items():
        setattr(cycle, name, value)
    cycle.full_clean()
    cycle.save()
    return cycle


def submission_deadline(*, cycle: CsrCycle, organization_id: int) -> dt.datetime:
    """The deadline that applies to this partner: the cycle's, or a later reopening for it."""
    until = CycleReopen.objects.filter(cycle=cycle, organization_id=organization_id).values_list("until", flat=True)
    reopened = next(iter(until), None)
    if reopened is not None and reopened > cycle.proposal_deadline:
        return reopened
    return cycle.proposal_deadline


def submission_open(*, cycle: CsrCycle, organization_id: int, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    if (
        cycle.status != CycleStatus.OPEN
        and not CycleReopen.objects.filter(cycle=cycle, organization_id=organization_id, until__gte=now).exists()
    ):
        return False
    return now <= submission_deadline(cycle=cycle, organization_id=organization_id)


@transaction.atomic
def cycle_reopen(
    *, actor: Any, cycle: CsrCycle, organization: Organization, until: dt.datetime, note: str
) -> CycleReopen:
    """Reopen submission for one partner after the deadline (recorded with a note)."""
    _check_manage(actor, cycle)
    _check_partner_organization(organization, cycle)
    if not note.strip():
        raise DomainError(_("Tuliskan catatan alasan pembukaan kembali."), code="note_required")
    if until <= timezone.now():
        raise DomainError(_("Batas baru harus setelah saat ini."), code="until_past")
    reopen, _created = CycleReopen.objects.update_or_create(
        cycle=cycle, organization=organization, defaults={"until": until, "note": note.strip(), "created_by": actor}
    )
    return reopen


# --------------------------------------------------------------------------------------------- allocation


@dataclass
class AllocationResult:
    created: int = 0
    already_allocated_here: int = 0  # this partner already has it for this need and cycle
    taken_by_other: int = 0  # another partner has it for this need and cycle (no override given)
    outside_area: int = 0  # outside the partner's operating area or the actor's scope
    not_found: int = 0
    inactive: int = 0  # no longer an active household (graduated, moved, deceased, merged)
    allocation_ids: list[int] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.already_allocated_here + self.taken_by_other + self.outside_area + self.not_found + self.inactive


def region_code_q(code: str, prefix: str = "") -> Q:
    """Households (their stored code columns) inside the region ``code`` of any level."""
    column = {2: "province_code", 4: "kabupaten_code", 6: "kecamatan_code", 10: "desa_id"}[len(code)]
    return Q(**{f"{prefix}{column}": code})


def operating_area_q(organization: Organization, prefix: str = "") -> Q:
    """Households inside the partner's operating area (kecamatan/desa); its TKPK region when none is set."""
    codes = list(organization.area.values_list("code", flat=True)) or [organization.region_id]
    condition = Q()
    for code in codes:
        column = {2: "province_code", 4: "kabupaten_code", 6: "kecamatan_code", 10: "desa_id"}[len(code)]
        condition |= Q(**{f"{prefix}{column}": code})
    return condition


@transaction.atomic
def allocations_create(
    *,
    actor: Any,
    cycle: CsrCycle,
    organization: Organization,
    assistance_kind: AssistanceKind,
    household_ids: Iterable[int],
    source: str = AllocationSource.MANUAL,
    override_reason: str = "",
    note: str = "",
    import_job_id: int | None = None,
) -> AllocationResult:
    """Allocate households to a partner for a need in a cycle, set-based.

    Households outside the actor's scope or the partner's operating area are not allocated; one already
    allocated to another partner for the same need and cycle is skipped unless ``override_reason`` is given
    (then both hold it and the reason is recorded)."""
    _check_manage(actor, cycle)
    _check_partner_organization(organization, cycle)
    if cycle.status not in (CycleStatus.OPEN, CycleStatus.CLOSED):
        raise DomainError(_("Siklus ini sudah dalam pelaksanaan; alokasi tidak dapat ditambah."), code="cycle_state")
    override_reason = override_reason.strip()
    wanted = sorted({int(pk) for pk in household_ids})
    result = AllocationResult()
    if not wanted:
        return result
    existing_ids = set(Household.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    result.not_found = len(wanted) - len(existing_ids)
    allowed = set(
        Household.objects.for_user(actor)
        .filter(pk__in=existing_ids)
        .filter(region_code_q(cycle.region_id))
        .filter(operating_area_q(organization))
        .values_list("pk", flat=True)
    )
    result.outside_area = len(existing_ids) - len(allowed)
    # Graduated, moved, deceased or merged families are no targets (the gap list holds active ones only).
    inactive = set(
        Household.objects.filter(pk__in=allowed).exclude(status=HouseholdStatus.ACTIVE).values_list("pk", flat=True)
    )
    result.inactive = len(inactive)
    allowed -= inactive
    active = Allocation.objects.active().filter(cycle=cycle, assistance_kind=assistance_kind, household_id__in=allowed)
    mine = set(active.filter(organization=organization).values_list("household_id", flat=True))
    others = set(active.exclude(organization=organization).values_list("household_id", flat=True))
    result.already_allocated_here = len(mine)
    candidates = allowed - mine
    if not override_reason:
        result.taken_by_other = len(candidates & others)
        candidates -= others
    rows = [
        Allocation(
            organization=organization,
            household_id=pk,
            cycle=cycle,
            assistance_kind=assistance_kind,
            source=source,
            override_reason=override_reason if pk in others else "",
            note=note[:300],
            created_by=actor,
            import_job_id=import_job_id,
        )
        for pk in sorted(candidates)
    ]
    before = set(
        Allocation.objects.filter(cycle=cycle, organization=organization, assistance_kind=assistance_kind)
        .active()
        .values_list("pk", flat=True)
    )
    # A concurrent allocation of the same household loses quietly here and is counted as taken.
    Allocation.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    after = set(
        Allocation.objects.filter(cycle=cycle, organization=organization, assistance_kind=assistance_kind)
        .active()
        .values_list("pk", flat=True)
    )
    result.allocation_ids = sorted(after - before)
    result.created = len(result.allocation_ids)
    result.taken_by_other += len(rows) - result.created
    if result.created >= BIG_ALLOCATION and connection.vendor == "postgresql":
        # Autovacuum may be off or late: fresh statistics keep the allocation pages on their indexes.
        transaction.on_commit(_analyse_allocations)
    return result


BIG_ALLOCATION = 5000


def _analyse_allocations() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Allocation._meta.db_table}")


@transaction.atomic
def allocation_release(*, actor: Any, allocation: Allocation, reason: str) -> Allocation:
    """Give an allocated household back to the pool (e.g. found ineligible in the field)."""
    if allocation.cycle is not None:
        _check_manage(actor, allocation.cycle)
    elif not scope_for(actor).is_superuser:
        raise _forbidden()
    if not reason.strip():
        raise DomainError(_("Tuliskan alasan pengembalian."), code="reason_required")
    _release(allocation, reason)
    return allocation


def _release(allocation: Allocation, reason: str) -> None:
    if allocation.status == AllocationStatus.RELEASED:
        return
    allocation.status = AllocationStatus.RELEASED
    allocation.released_reason = reason.strip()[:300]
    allocation.released_at = timezone.now()
    allocation.save(update_fields=["status", "released_reason", "released_at"])


# ---------------------------------------------------------------------------------------------- proposals


@dataclass(frozen=True)
class AdditionalTarget:
    """A family the partner proposes beyond its allocation: a registry household it may see, or a family
    described by name and address (linked to the registry by the secretariat)."""

    reason: str
    household_id: int | None = None
    name: str = ""
    address: str = ""
    desa: Region | None = None


EDITABLE = (ProposalStatus.DRAFT, ProposalStatus.RETURNED)
# What the partner fills in; status, organization, cycle, program and report move only through the services.
PROPOSAL_FIELDS = frozenset(
    {
        "title",
        "description",
        "assistance_kind",
        "cluster",
        "strategy",
        "budget",
        "starts_on",
        "ends_on",
        "contact_name",
        "contact_phone",
        "contact_email",
    }
)


def _check_proposal_fields(attrs: dict[str, Any]) -> None:
    fixed = sorted(set(attrs) - PROPOSAL_FIELDS)
    if fixed:
        raise DomainError(
            _("Kolom %(fields)s tidak dapat diisi pada usulan.") % {"fields": ", ".join(fixed)},
            code="fixed_fields",
        )


def _allocated_household_ids(proposal: Proposal) -> set[int]:
    return set(
        Allocation.objects.active()
        .filter(organization=proposal.organization, cycle=proposal.cycle)
        .values_list("household_id", flat=True)
    )


def _set_targets(
    proposal: Proposal, household_ids: Sequence[int], additional: Sequence[AdditionalTarget], actor: Any
) -> None:
    """Make the proposal's targets exactly these. Targets kept from before keep their field verification (a
    proposal returned for revision and edited does not lose the results of the joint verification)."""
    allocated = _allocated_household_ids(proposal)
    chosen = {int(pk) for pk in household_ids}
    existing = {t.household_id: t for t in proposal.targets.filter(is_additional=False)}
    # A target already verified in the field stays even when that result released its allocation; any other
    # must still be allocated to the partner.
    verified = {pk for pk, t in existing.items() if t.verification != VerificationResult.PENDING}
    outside = chosen - allocated - verified
    if outside:
        raise DomainError(
            _("%(count)d keluarga yang dipilih bukan sasaran alokasi Anda pada siklus ini.") % {"count": len(outside)},
            code="target_not_allocated",
        )
    for item in additional:
        if not item.reason.strip():
            raise DomainError(_("Setiap sasaran tambahan wajib disertai alasan."), code="reason_required")
        if item.household_id is None and not (item.name.strip() and item.address.strip() and item.desa):
            raise DomainError(
                _("Sasaran tambahan di luar registri wajib diisi nama, alamat dan desa/kelurahan."),
                code="additional_incomplete",
            )
        if (
            item.household_id is not None
            and not Household.objects.for_user(actor).filter(pk=item.household_id).exists()
        ):
            raise DomainError(_("Keluarga sasaran tambahan tidak ditemukan."), code="household_not_found")
    # Link each target to the allocation of the proposal's need when the household has several (else any).
    allocation_by_household: dict[int, int] = {}
    for household_id, pk, kind_id in (
        Allocation.objects.active()
        .filter(organization=proposal.organization, cycle=proposal.cycle, household_id__in=chosen)
        .order_by("household_id", "pk")
        .values_list("household_id", "pk", "assistance_kind_id")
    ):
        if kind_id == proposal.assistance_kind_id or household_id not in allocation_by_household:
            allocation_by_household[household_id] = pk
    dropped = [t.pk for household_id, t in existing.items() if household_id not in chosen]
    rows = [
        ProposalTarget(proposal=proposal, household_id=pk, allocation_id=allocation_by_household.get(pk))
        for pk in sorted(chosen - set(existing))
    ]

    def key(household_id: int | None, reason: str, name: str, address: str, desa_id: str | None) -> tuple[Any, ...]:
        return (household_id, reason.strip()[:500], name.strip()[:150], address.strip()[:300], desa_id)

    kept_additional: dict[tuple[Any, ...], int] = {
        key(t.household_id, t.additional_reason, t.proposed_name, t.proposed_address, t.proposed_desa_id): t.pk
        for t in proposal.targets.filter(is_additional=True)
    }
    wanted_additional = [item for item in additional if item.household_id is None or item.household_id not in chosen]
    keep: set[int] = set()
    for item in wanted_additional:
        item_key = key(item.household_id, item.reason, item.name, item.address, item.desa.pk if item.desa else None)
        if item_key in kept_additional and kept_additional[item_key] not in keep:
            keep.add(kept_additional[item_key])
            continue
        rows.append(
            ProposalTarget(
                proposal=proposal,
                household_id=item.household_id,
                is_additional=True,
                additional_reason=item.reason.strip()[:500],
                proposed_name=item.name.strip()[:150],
                proposed_address=item.address.strip()[:300],
                proposed_desa=item.desa,
            )
        )
    dropped += [pk for pk in kept_additional.values() if pk not in keep]
    ProposalTarget.objects.filter(pk__in=dropped).delete()
    ProposalTarget.objects.bulk_create(rows)


@transaction.atomic
def proposal_create(
    *,
    actor: Any,
    organization: Organization,
    cycle: CsrCycle,
    household_ids: Sequence[int] = (),
    additional: Sequence[AdditionalTarget] = (),
    **attrs: Any,
) -> Proposal:
    """A draft proposal of ``organization`` (attrs: title, description, assistance_kind, cluster, strategy,
    budget, starts_on, ends_on, contact_name/phone/email)."""
    _check_partner(actor, organization)
    _check_partner_organization(organization, cycle)
    _check_proposal_fields(attrs)
    if not CsrCycle.objects.for_user(actor).filter(pk=cycle.pk).exists():
        raise DomainError(_("Siklus CSR tidak ditemukan."), code="cycle_not_found")
    proposal = Proposal(organization=organization, cycle=cycle, created_by=actor, **attrs)
    proposal.full_clean()
    proposal.save()
    _set_targets(proposal, household_ids, additional, actor)
    _log(proposal, "create", ProposalStatus.DRAFT, ProposalStatus.DRAFT, actor, "")
    return proposal


@transaction.atomic
def proposal_update(
    *,
    actor: Any,
    proposal: Proposal,
    household_ids: Sequence[int] | None = None,
    additional: Sequence[AdditionalTarget] | None = None,
    **attrs: Any,
) -> Proposal:
    """Edit a draft or returned proposal (the partner's own)."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    _check_partner(actor, proposal.organization)
    if proposal.status not in EDITABLE:
        raise DomainError(
            _("Usulan berstatus %(status)s tidak dapat diubah.") % {"status": proposal.get_status_display()},
            code="not_editable",
        )
    _check_proposal_fields(attrs)
    for name, value in attrs.items():
        setattr(proposal, name, value)
    proposal.full_clean()
    proposal.save()
    if household_ids is not None or additional is not None:
        current = list(proposal.targets.filter(is_additional=False).values_list("household_id", flat=True))
        current_additional = [
            AdditionalTarget(
                reason=t.additional_reason,
                household_id=t.household_id,
                name=t.proposed_name,
                address=t.proposed_address,
                desa=t.proposed_desa,
            )
            for t in proposal.targets.filter(is_additional=True).select_related("proposed_desa")
        ]
        _set_targets(
            proposal,
            current if household_ids is None else household_ids,
            current_additional if additional is None else additional,
            actor,
        )
    return proposal


def _log(proposal: Proposal, action: str, from_status: str, to_status: str, actor: Any, note: str) -> None:
    ProposalTransition.objects.create(
        proposal=proposal, action=action, from_status=from_status, to_status=to_status, actor=actor, note=note
    )


# The workflow as data: action → (states it may start from, state it leads to, who may take it).
PARTNER = "partner"
SECRETARIAT = "secretariat"
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "submit": ((ProposalStatus.DRAFT, ProposalStatus.RETURNED), ProposalStatus.SUBMITTED, PARTNER),
    "withdraw": (
        (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED, ProposalStatus.RETURNED, ProposalStatus.VERIFIED),
        ProposalStatus.WITHDRAWN,
        PARTNER,
    ),
    "return": ((ProposalStatus.SUBMITTED, ProposalStatus.VERIFIED), ProposalStatus.RETURNED, SECRETARIAT),
    "verify": ((ProposalStatus.SUBMITTED,), ProposalStatus.VERIFIED, SECRETARIAT),
    "agree": ((ProposalStatus.VERIFIED,), ProposalStatus.AGREED, SECRETARIAT),
    "implement": ((ProposalStatus.AGREED,), ProposalStatus.IMPLEMENTED, PARTNER),
    "report": ((ProposalStatus.IMPLEMENTED,), ProposalStatus.REPORTED, PARTNER),
}


def action_label(action: str) -> str:
    return {
        "submit": _("Ajukan"),
        "withdraw": _("Tarik usulan"),
        "return": _("Kembalikan untuk perbaikan"),
        "verify": _("Nyatakan terverifikasi"),
        "agree": _("Sepakati (PKS)"),
        "implement": _("Nyatakan terlaksana"),
        "report": _("Kirim laporan akhir"),
    }[action]


def available_actions(*, actor: Any, proposal: Proposal) -> list[str]:
    """Actions the actor may take on the proposal now (buttons and the API's list)."""
    actions = []
    for action, (sources, _target, who) in TRANSITIONS.items():
        if proposal.status not in sources:
            continue
        if who == PARTNER and not may_act_for(actor=actor, organization_id=proposal.organization_id):
            continue
        if who == SECRETARIAT and not may_manage_cycle(actor=actor, cycle=proposal.cycle):
            continue
        actions.append(action)
    return actions


@transaction.atomic
def proposal_transition(
    *, actor: Any, proposal: Proposal, action: str, note: str = "", now: dt.datetime | None = None, **details: Any
) -> Proposal:
    """Move a proposal along its workflow; refuses (DomainError) a wrong role, a wrong state, a late
    submission and a step whose conditions are not met. ``agree`` takes the agreement's details
    (number, signed_on, place, government_signatory, company_signatory); ``report`` a final report."""
    if action not in TRANSITIONS:
        raise DomainError(_("Tindakan tidak dikenal: %(action)s") % {"action": action}, code="unknown_action")
    proposal = Proposal.objects.select_for_update().select_related("cycle", "organization").get(pk=proposal.pk)
    sources, target, who = TRANSITIONS[action]
    if who == PARTNER:
        _check_partner(actor, proposal.organization)
    else:
        _check_manage(actor, proposal.cycle)
    if proposal.status not in sources:
        raise DomainError(
            _("Usulan berstatus %(status)s tidak dapat di-%(action)s.")
            % {"status": proposal.get_status_display(), "action": action_label(action).lower()},
            code="invalid_state",
        )
    note = note.strip()
    handler = _BEFORE.get(action)
    if handler is not None:
        handler(proposal, actor, note, now or timezone.now(), details)
    from_status = proposal.status
    proposal.status = target
    proposal.status_note = note
    if action == "submit":
        proposal.submitted_at = now or timezone.now()
    proposal.save()
    _log(proposal, action, from_status, target, actor, note)
    return proposal


def _before_submit(proposal: Proposal, actor: Any, note: str, now: dt.datetime, details: dict[str, Any]) -> None:
    # The deadline is for the first submission: a proposal returned for revision (it was submitted in time;
    # review happens after the deadline) goes back to the secretariat without a reopening.
    resubmission = proposal.status == ProposalStatus.RETURNED and proposal.submitted_at is not None
    if not resubmission and not submission_open(
        cycle=proposal.cycle, organization_id=proposal.organization_id, now=now
    ):
        deadline = timezone.localtime(
            submission_deadline(cycle=proposal.cycle, organization_id=proposal.organization_id)
        )
        raise DomainError(
            _(
                "Batas pengajuan usulan %(cycle)s sudah lewat (%(deadline)s). Hubungi sekretariat TKPK bila "
                "pengajuan perlu dibuka kembali."
            )
            % {"cycle": proposal.cycle.name, "deadline": deadline.strftime("%d-%m-%Y %H:%M")},
            code="deadline_passed",
        )
    if not proposal.targets.exists():
        raise DomainError(_("Pilih setidaknya satu keluarga sasaran sebelum mengajukan."), code="no_targets")
    if Refusal.objects.filter(organization=proposal.organization, cycle=proposal.cycle).exists():
        raise DomainError(
            _("Organisasi Anda sudah menyatakan tidak berpartisipasi pada siklus ini."), code="already_refused"
        )


def _before_return(proposal: Proposal, actor: Any, note: str, now: dt.datetime, details: dict[str, Any]) -> None:
    if not note:
        raise DomainError(_("Tuliskan catatan perbaikan untuk mitra."), code="note_required")


def _before_withdraw(proposal: Proposal, actor: Any, note: str, now: dt.datetime, details: dict[str, Any]) -> None:
    if proposal.status != ProposalStatus.DRAFT and not note:
        raise DomainError(_("Tuliskan alasan penarikan usulan."), code="note_required")


def _before_verify(proposal: Proposal, actor: Any, note: str, now: dt.datetime, details: dict[str, Any]) -> None:
    pending = proposal.targets.filter(verification=VerificationResult.PENDING).count()
    if pending:
        raise DomainError(
            _("Masih ada %(count)d sasaran yang belum diverifikasi di lapangan.") % {"count": pending},
            code="verification_pending",
        )
    if not proposal.targets.filter(verification=VerificationResult.ELIGIBLE, household__isnull=False).exists():
        raise DomainError(
            _("Tidak ada sasaran yang layak; kembalikan usulan ke mitra untuk diperbaiki."), code="no_eligible"
        )


def _before_agree(proposal: Proposal, actor: Any, note: str, now: dt.datetime, details: dict[str, Any]) -> None:
    required = {
        "number": _("nomor PKS"),
        "signed_on": _("tanggal penandatanganan"),
        "government_signatory": _("penandatangan pemerintah daerah"),
        "company_signatory": _("penandatangan mitra"),
    }
    # Blank-only text counts as missing (a PKS with number "  " must not be created).
    given = {name: value.strip() if isinstance(value, str) else value for name, value in details.items()}
    missing = [str(label) for name, label in required.items() if not given.get(name)]
    if missing:
        raise DomainError(
            _("Lengkapi data PKS: %(fields)s.") % {"fields": ", ".join(missing)}, code="agreement_incomplete"
        )
    number = str(given["number"])
    duplicate = DomainError(_("Nomor PKS %(number)s sudah dipakai.") % {"number": number}, code="duplicate_number")
    if Agreement.objects.filter(number__iexact=number).exists():
        raise duplicate
    try:
        with transaction.atomic():
            agreement = Agreement.objects.create(
                proposal=proposal,
                number=number,
                signed_on=given["signed_on"],
                place=str(given.get("place") or ""),
                government_signatory=str(given["government_signatory"]),
                company_signatory=str(given["company_signatory"]),
                created_by=actor,
            )
    except IntegrityError as exc:  # the same number taken concurrently
        raise duplicate from exc
    proposal.program = _program_for(proposal, actor)
    agreement_pdf_refresh(agreement=agreement)


def _before_implement(proposal: Proposal, actor: Any, note: str, now: dt.datetime, details: dict[str, Any]) -> None:
    if (
        proposal.program_id is None
        or not Intervention.objects.filter(program_id=proposal.program_id).delivered().exists()
    ):
        raise DomainError(
            _("Laporkan setidaknya satu penyaluran sebelum menyatakan program terlaksana."), code="no_deliveries"
        )


def _before_report(proposal: Proposal, actor: Any, note: str, now: dt.datetime, details: dict[str, Any]) -> None:
    report = str(details.get("final_report") or note).strip()
    if not report:
        raise DomainError(_("Tuliskan laporan akhir pelaksanaan program."), code="report_required")
    proposal.final_report = report


_BEFORE = {
    "submit": _before_submit,
    "return": _before_return,
    "withdraw": _before_withdraw,
    "verify": _before_verify,
    "agree": _before_agree,
    "implement": _before_implement,
    "report": _before_report,
}


def _program_for(proposal: Proposal, actor: Any) -> Program:
    """The program under which the partner reports its deliveries (channel CSR), owned by the partner."""
    program = Program(
        organization=proposal.organization,
        region_id=proposal.organization.region_id,
        code=f"csr-{proposal.cycle.year}-{proposal.pk}",
        name=proposal.title[:200],
        year=proposal.cycle.year,
        cluster=proposal.cluster,
        strategy=proposal.strategy,
        assistance_kind=proposal.assistance_kind,
        funding_source=FundingSource.BAZNAS
        if proposal.organization.kind == OrganizationKind.BAZNAS
        else FundingSource.CSR,
        budget=proposal.budget,
        target_households=proposal.targets.filter(verification=VerificationResult.ELIGIBLE).count(),
        starts_on=proposal.starts_on,
        ends_on=proposal.ends_on,
        description=proposal.description,
        created_by=actor,
    )
    with history_context(user=actor.pk, action="csr_agree"):
        program.save()
    return program


def agreement_pdf_refresh(*, agreement: Agreement) -> Agreement:
    """(Re)generate the agreement PDF with its target list (NIK masked)."""
    from csr import documents

    content = documents.agreement_pdf(agreement)
    agreement.pdf.save(f"pks-{agreement.proposal_id}.pdf", ContentFile(content), save=True)
    return agreement


# ------------------------------------------------------------------------------------------ verification


@transaction.atomic
def target_verify(
    *, actor: Any, target: ProposalTarget, result: str, note: str = "", household: Household | None = None
) -> ProposalTarget:
    """Record the joint field verification of one target. Ineligible → its allocation goes back to the pool;
    an eligible additional target (linked to a registry household) becomes an allocation of the partner."""
    target = ProposalTarget.objects.select_for_update().select_related("proposal__cycle").get(pk=target.pk)
    proposal = target.proposal
    _check_manage(actor, proposal.cycle)
    if proposal.status != ProposalStatus.SUBMITTED:
        raise DomainError(_("Verifikasi lapangan hanya untuk usulan yang sudah diajukan."), code="invalid_state")
    if result not in VerificationResult.values or result == VerificationResult.PENDING:
        raise DomainError(_("Hasil verifikasi tidak dikenal."), code="invalid_result")
    if result == VerificationResult.OTHER and not note.strip():
        raise DomainError(_("Hasil 'lainnya' wajib disertai catatan."), code="note_required")
    if household is not None:
        if not target.is_additional:
            raise DomainError(_("Hanya sasaran tambahan yang dapat ditautkan ke registri."), code="not_additional")
        if not Household.objects.for_user(actor).filter(pk=household.pk).exists():
            raise DomainError(_("Keluarga tidak ditemukan di wilayah Anda."), code="household_not_found")
        if proposal.targets.filter(household=household).exclude(pk=target.pk).exists():
            raise DomainError(_("Keluarga ini sudah menjadi sasaran usulan ini."), code="duplicate_target")
        if target.household_id not in (None, household.pk) and target.allocation_id is not None:
            # Linked to another family now: the allocation made for the earlier link goes back to the pool.
            earlier = Allocation.objects.get(pk=target.allocation_id)
            if earlier.source == AllocationSource.PROPOSAL:
                _release(earlier, _("Sasaran tambahan ditautkan ke keluarga lain."))
            target.allocation = None
        target.household = household
    if result == VerificationResult.ELIGIBLE and target.household_id is None:
        raise DomainError(
            _("Tautkan sasaran tambahan ke keluarga di registri sebelum menyatakannya layak."), code="not_linked"
        )
    target.verification = result
    target.verification_note = note.strip()[:500]
    target.verified_by = actor
    target.verified_at = timezone.now()
    if result == VerificationResult.ELIGIBLE and target.is_additional and target.allocation_id is None:
        assert target.household_id is not None
        # A household the partner already holds for this need keeps that allocation (no second one).
        held = (
            Allocation.objects.active()
            .filter(
                organization=proposal.organization,
                household_id=target.household_id,
                cycle=proposal.cycle,
                assistance_kind=proposal.assistance_kind,
            )
            .first()
        )
        target.allocation = held or Allocation.objects.create(
            organization=proposal.organization,
            household_id=target.household_id,
            cycle=proposal.cycle,
            assistance_kind=proposal.assistance_kind,
            source=AllocationSource.PROPOSAL,
            override_reason=_additional_override(proposal, target.household_id),
            note=target.additional_reason[:300],
            created_by=actor,
        )
    elif result == VerificationResult.ELIGIBLE and target.allocation_id is not None:
        target.allocation = _reactivate(Allocation.objects.select_for_update().get(pk=target.allocation_id))
    elif result != VerificationResult.ELIGIBLE and target.allocation_id is not None:
        reason = _("Verifikasi lapangan: %(result)s") % {"result": VerificationResult(result).label}
        _release(Allocation.objects.get(pk=target.allocation_id), f"{reason}. {note}".strip())
    target.save()
    return target


def _reactivate(allocation: Allocation) -> Allocation:
    """A target found eligible on a corrected verification takes its released allocation back: the same
    allocation again, another active one of the partner for the need, or (when another partner holds the
    household meanwhile) its own again with the reason recorded."""
    if allocation.status == AllocationStatus.ACTIVE:
        return allocation
    same_need = Allocation.objects.active().filter(
        household_id=allocation.household_id,
        cycle_id=allocation.cycle_id,
        assistance_kind_id=allocation.assistance_kind_id,
    )
    own = same_need.filter(organization_id=allocation.organization_id).first()
    if own is not None:
        return own
    if not allocation.override_reason and same_need.filter(override_reason="").exists():
        allocation.override_reason = str(_("Verifikasi ulang: layak"))
    allocation.status = AllocationStatus.ACTIVE
    allocation.released_reason = ""
    allocation.released_at = None
    allocation.save(update_fields=["status", "override_reason", "released_reason", "released_at"])
    return allocation


def _additional_override(proposal: Proposal, household_id: int) -> str:
    """An additional target another partner already holds for this need is kept with a recorded reason."""
    taken = (
        Allocation.objects.active()
        .filter(cycle=proposal.cycle, assistance_kind=proposal.assistance_kind, household_id=household_id)
        .exclude(organization=proposal.organization)
        .exists()
    )
    return str(_("Usulan tambahan mitra yang terverifikasi layak")) if taken else ""


# ---------------------------------------------------------------------------------------------- deliveries


def delivery_record(
    *,
    actor: Any,
    proposal: Proposal,
    household: Household,
    delivered_on: dt.date,
    value: Decimal | None = None,
    quantity: Decimal = Decimal(1),
    note: str = "",
    channel: str = EntryChannel.CSR,
) -> Intervention:
    """A delivery to an eligible target of an agreed proposal: an intervention of its program, so the gap
    engine counts it (a recompute of the household's kabupaten is queued after the commit)."""
    from programs.services import intervention_create
    from reports.services import gap_recompute_after_write

    _check_partner(actor, proposal.organization)
    if proposal.status not in (ProposalStatus.AGREED, ProposalStatus.IMPLEMENTED) or proposal.program is None:
        raise DomainError(
            _("Penyaluran hanya dapat dilaporkan untuk usulan yang sudah disepakati."), code="invalid_state"
        )
    if not proposal.targets.filter(household=household, verification=VerificationResult.ELIGIBLE).exists():
        raise DomainError(
            _("Keluarga ini bukan sasaran terverifikasi layak dari usulan ini."), code="not_eligible_target"
        )
    with transaction.atomic():
        logged = intervention_create(
            actor=actor,
            program=proposal.program,
            household=household,
            delivered_on=delivered_on,
            value=value,
            quantity=quantity,
            note=note,
            channel=channel,
        )
        gap_recompute_after_write(region_code=household.kabupaten_code, years={delivered_on.year})
    return logged.intervention


# ------------------------------------------------------------------------------------------------ refusals


def _refusal_number(organization: Organization, cycle: CsrCycle) -> str:
    return f"TKPK-CSR/{cycle.year}/{cycle.pk}/{organization.short_code}".upper()


@transaction.atomic
def refusal_submit(
    *,
    actor: Any,
    organization: Organization,
    cycle: CsrCycle,
    reason: str,
    signatory_name: str,
    signatory_position: str,
) -> Refusal:
    """The partner states in writing why it does not take part; the letter to the Bupati/Wali Kota through
    Bappeda is generated as a PDF. Refused while a proposal of the partner is in the workflow."""
    _check_partner(actor, organization)
    _check_partner_organization(organization, cycle)
    if not CsrCycle.objects.for_user(actor).filter(pk=cycle.pk).exists():
        raise DomainError(_("Siklus CSR tidak ditemukan."), code="cycle_not_found")
    if len(reason.strip()) < 20:
        raise DomainError(
            _("Tuliskan alasan tidak berpartisipasi dengan jelas (minimal 20 karakter)."), code="reason_short"
        )
    if not signatory_name.strip() or not signatory_position.strip():
        raise DomainError(_("Nama dan jabatan penanda tangan wajib diisi."), code="signatory_required")
    active = Proposal.objects.filter(organization=organization, cycle=cycle).exclude(
        status__in=(ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN)
    )
    if active.exists():
        raise DomainError(
            _("Organisasi Anda memiliki usulan yang sedang berjalan; tarik usulan itu lebih dahulu."),
            code="proposal_active",
        )
    try:
        with transaction.atomic():
            refusal = Refusal.objects.create(
                organization=organization,
                cycle=cycle,
                reason=reason.strip(),
                signatory_name=signatory_name.strip(),
                signatory_position=signatory_position.strip(),
                letter_number=_refusal_number(organization, cycle),
                submitted_by=actor,
            )
    except IntegrityError as exc:
        raise DomainError(
            _("Organisasi Anda sudah mengirim surat tidak berpartisipasi untuk siklus ini."), code="already_refused"
        ) from exc
    from csr import documents

    refusal.letter_pdf.save(f"surat-{refusal.pk}.pdf", ContentFile(documents.refusal_letter_pdf(refusal)), save=True)
    return refusal


@transaction.atomic
def refusal_acknowledge(*, actor: Any, refusal: Refusal, note: str = "") -> Refusal:
    _check_manage(actor, refusal.cycle)
    if refusal.acknowledged_at is not None:
        raise DomainError(_("Surat ini sudah diterima sebelumnya."), code="already_acknowledged")
    refusal.acknowledged_by = actor
    refusal.acknowledged_at = timezone.now()
    refusal.acknowledgement_note = note.strip()[:500]
    refusal.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledgement_note"])
    return refusal
