"""The CSR demo (csr.demo, called by seed_demo): what it creates, and a second run creates nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from pypdf import PdfReader

from csr.demo import PARTNER_KEY, PROPOSALS, REFUSING_KEY, demo_csr_seed
from csr.models import (
    Agreement,
    Allocation,
    AllocationStatus,
    CompanyContact,
    CsrCycle,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    Refusal,
)
from households.demo import demo_seed
from households.models import Household
from programs.models import Intervention
from tkpk.models import CompanySector, Organization

pytestmark = pytest.mark.django_db

REGION = "33.24"


def counts() -> dict[str, int]:
    return {
        "cycles": CsrCycle.objects.count(),
        "contacts": CompanyContact.objects.count(),
        "allocations": Allocation.objects.count(),
        "proposals": Proposal.objects.count(),
        "targets": ProposalTarget.objects.count(),
        "agreements": Agreement.objects.count(),
        "refusals": Refusal.objects.count(),
        "interventions": Intervention.objects.count(),
        "users": get_user_model()._default_manager.count(),
    }


def test_demo_csr_seed_creates_each_state_once() -> None:
    demo_seed(region_code=REGION, families=1500, seed=42)

    first = demo_csr_seed(region_code=REGION)
    after_first = counts()
    second = demo_csr_seed(region_code=REGION)

    assert counts() == after_first
    assert (second.allocations_created, second.proposals_created, second.refusals_created) == (0, 0, 0)
    assert (second.contacts_created, second.deliveries_created) == (0, 0)

    cycle = CsrCycle.objects.get()
    assert cycle.name.startswith("Musrenbang CSR ") and cycle.region_id == "3324"
    assert 9 <= cycle.days_left() <= 10
    partner = Organization.objects.get(short_code=f"3324-{PARTNER_KEY}")
    assert partner.sector == CompanySector.PLANTATION and partner.area.exists()
    assert partner.memberships.filter(user__username="demo_mitra").exists()
    assert after_first["contacts"] == 4 and first.partners == 4

    allocations = Allocation.objects.filter(cycle=cycle, organization=partner)
    assert first.allocations_created == allocations.count() >= sum(n for _t, _s, n in PROPOSALS)
    households = Household.objects.filter(pk__in=allocations.values("household_id"))
    assert set(households.values_list("desil", flat=True)) == {1}
    assert allocations.filter(status=AllocationStatus.RELEASED).count() == 1  # the target found moved

    statuses = sorted(Proposal.objects.filter(cycle=cycle).values_list("status", flat=True))
    assert statuses == sorted(
        [ProposalStatus.DRAFT, ProposalStatus.SUBMITTED, ProposalStatus.VERIFIED, ProposalStatus.AGREED]
    )
    agreed = Proposal.objects.get(cycle=cycle, status=ProposalStatus.AGREED)
    assert PdfReader(agreed.agreement.pdf.path).pages
    assert first.deliveries_created == 3
    assert Intervention.objects.filter(program=agreed.program).delivered().count() == 3

    refusal = Refusal.objects.get(cycle=cycle)
    assert refusal.organization.short_code == f"3324-{REFUSING_KEY}" and refusal.letter_pdf
    assert PdfReader(refusal.letter_pdf.path).pages
