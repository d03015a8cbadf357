"""Builders shared by the compliance, reminder and summary tests: partners of Kendal with users and contacts,
and proposals taken through the real services (submitted, agreed with deliveries)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from csr import services
from csr.models import CompanyContact, CsrCycle, Proposal, ProposalTarget, VerificationResult
from households.models import Household
from programs.models import AssistanceKind, ProgramCluster, ProgramStrategy
from tests import factories as f
from tkpk.models import CompanySector, Organization, OrganizationKind
from tkpk.scoping import Role


def company(sector: str = CompanySector.PLANTATION, *, kind: str = OrganizationKind.COMPANY, **kw: Any) -> Any:
    """A partner user (``.test_organization`` is its organization) registered in Kendal."""
    organization = f.OrganizationFactory(kind=kind, sector=sector if kind == OrganizationKind.COMPANY else "", **kw)
    return f.user_with_role(Role.PARTNER, organization=organization)


def contact(organization: Organization, email: str, **kw: Any) -> CompanyContact:
    return CompanyContact.objects.create(organization=organization, name=kw.pop("name", "Kontak"), email=email, **kw)


def open_cycle(**kw: Any) -> CsrCycle:
    return f.CsrCycleFactory(**kw)


def move_deadline(cycle: CsrCycle, deadline: dt.datetime) -> CsrCycle:
    CsrCycle.objects.filter(pk=cycle.pk).update(proposal_deadline=deadline)
    cycle.refresh_from_db()
    return cycle


def submitted_proposal(
    *,
    secretariat: Any,
    partner: Any,
    cycle: CsrCycle,
    households: list[Household],
    kind: str = "pangan",
    cluster: str = "klaster-1",
    strategy: str = "kurangi-beban",
    budget: int = 50_000_000,
) -> Proposal:
    """Allocate ``households`` to the partner for ``kind``, propose them all and submit (before the deadline)."""
    assistance_kind = f.reference(AssistanceKind, kind)
    services.allocations_create(
        actor=secretariat,
        cycle=cycle,
        organization=partner.test_organization,
        assistance_kind=assistance_kind,
        household_ids=[h.pk for h in households],
    )
    proposal = f.ProposalFactory(
        organization=partner.test_organization,
        cycle=cycle,
        assistance_kind=assistance_kind,
        cluster=f.reference(ProgramCluster, cluster),
        strategy=f.reference(ProgramStrategy, strategy),
        budget=Decimal(budget),
    )
    services.proposal_update(actor=partner, proposal=proposal, household_ids=[h.pk for h in households])
    return services.proposal_transition(actor=partner, proposal=proposal, action="submit")


def agreed_proposal(
    *,
    secretariat: Any,
    partner: Any,
    cycle: CsrCycle,
    households: list[Household],
    ineligible: int = 0,
    delivered: int = 0,
    number: str,
    **kw: Any,
) -> Proposal:
    """Submitted, verified in the field (the last ``ineligible`` households moved away), agreed, and the first
    ``delivered`` households delivered through ``services.delivery_record``."""
    proposal = submitted_proposal(secretariat=secretariat, partner=partner, cycle=cycle, households=households, **kw)
    targets = list(ProposalTarget.objects.filter(proposal=proposal).order_by("household_id"))
    order = {h.pk: i for i, h in enumerate(households)}
    targets.sort(key=lambda t: order[t.household_id])
    for i, target in enumerate(targets):
        moved = i >= len(targets) - ineligible
        services.target_verify(
            actor=secretariat,
            target=target,
            result=VerificationResult.MOVED if moved else VerificationResult.ELIGIBLE,
            note="pindah" if moved else "",
        )
    services.proposal_transition(actor=secretariat, proposal=proposal, action="verify")
    proposal = services.proposal_transition(
        actor=secretariat,
        proposal=proposal,
        action="agree",
        number=number,
        signed_on=timezone.localdate(),
        government_signatory="Kepala Bappeda",
        company_signatory="Direktur",
    )
    for household in households[:delivered]:
        services.delivery_record(
            actor=partner, proposal=proposal, household=household, delivered_on=timezone.localdate()
        )
    return proposal


def refuse(*, partner: Any, cycle: CsrCycle, reason: str) -> Any:
    return services.refusal_submit(
        actor=partner,
        organization=partner.test_organization,
        cycle=cycle,
        reason=reason,
        signatory_name="Direktur Utama",
        signatory_position="Direktur",
    )
