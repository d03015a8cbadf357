"""The CSR portal part of the permission matrix's world (issue 7), built right after ``world.build_world``.

It builds on the rows ``world._csr`` writes for the admin matrix (a cycle of each kabupaten, partner A's agreed
proposal and refusal letter in Kendal, the Kutai Kartanegara company's agreed proposal and letter) and adds what
the pages and the API need, so that every detail URL has an object of the actor's own company, of another company
in the region, and one out of the region:

- the world's three allocations join the cycle of their kabupaten for one need (``pangan``);
- partner A: an agreed proposal with its agreement (a real PDF, targets with masked NIK) whose program is A's
  program in the world, so A's delivery there is the proposal's delivery; and a draft it may still edit;
- partner B: a submitted proposal (its allocated household, not yet verified in the field);
- a third Kendal company (mining, no user of its own) that refused in writing, with its generated letter.

Each object carries its own mark, so a page that shows another company's row is caught by name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.utils import timezone

from csr import documents
from csr.models import (
    Agreement,
    Allocation,
    AllocationSource,
    CsrCycle,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    ProposalTransition,
    Refusal,
    VerificationResult,
)
from programs.models import AssistanceKind
from tests.factories import OrganizationFactory, ProposalFactory, reference, region
from tkpk.models import Organization, OrganizationKind

if TYPE_CHECKING:
    from tests.permissions.world import World

# Proposal targets: partner A's agreed and draft ones, partner B's submitted one, the Kukar company's agreed one.
A_AGREED = "a-agreed"
A_DRAFT = "a-draft"
B_SUBMITTED = "b-submitted"
KUKAR_PROPOSAL = "kukar"
PROPOSAL_TARGETS = (A_AGREED, A_DRAFT, B_SUBMITTED, KUKAR_PROPOSAL)
PROPOSAL_STATUS = {
    A_AGREED: ProposalStatus.AGREED,
    A_DRAFT: ProposalStatus.DRAFT,
    B_SUBMITTED: ProposalStatus.SUBMITTED,
    KUKAR_PROPOSAL: ProposalStatus.AGREED,
}
PROPOSAL_OWNER = {A_AGREED: "partner", A_DRAFT: "partner", B_SUBMITTED: "partner_b", KUKAR_PROPOSAL: "kukar_partner"}
PROPOSAL_MARK = {
    A_AGREED: "UsulanMitraA7711",
    A_DRAFT: "UsulanDrafA7714",
    B_SUBMITTED: "UsulanMitraB7712",
    KUKAR_PROPOSAL: "RahasiaKukar",  # world._csr's title "Program CSR RahasiaKukar"
}
WITH_AGREEMENT = frozenset({A_AGREED, KUKAR_PROPOSAL})

# Refusal letters: partner A's (world._csr), the third Kendal company's, the Kukar company's (world._csr).
REFUSAL_A = "a"
REFUSAL_C = "c"
REFUSAL_KUKAR = "kukar"
REFUSAL_TARGETS = (REFUSAL_A, REFUSAL_C, REFUSAL_KUKAR)
REFUSAL_OWNER = {REFUSAL_A: "partner", REFUSAL_C: "partner_c", REFUSAL_KUKAR: "kukar_partner"}
REFUSAL_MARK = {REFUSAL_C: "PenolakanMitraC7713"}

# Cycles, by side.
CYCLE_TARGETS = ("kendal", "kukar")
NEED = "pangan"


@dataclass
class CsrWorld:
    cycles: dict[str, CsrCycle]
    proposals: dict[str, Proposal]
    refusals: dict[str, Refusal]
    # By household target (world.IN_REGION, PARTNER_B_ALLOCATED, OUT_OF_REGION): its allocation in the cycle.
    allocations: dict[str, Allocation]
    need: AssistanceKind

    def target(self, proposal: str) -> ProposalTarget:
        """The proposal's (only) target household."""
        found = self.proposals[proposal].targets.order_by("pk").first()
        assert found is not None
        return found


def build_csr(world: World) -> CsrWorld:
    from tests.permissions.world import (
        IN_REGION,
        KENDAL,
        KENDAL_MARK,
        OUT_OF_REGION,
        PARTNER_B_ALLOCATED,
        PARTNER_PROGRAM,
    )

    users, organizations, households = world.users, world.organizations, world.households
    border = world.border
    cycles: dict[str, CsrCycle] = {side: border["csr.csrcycle"][side] for side in CYCLE_TARGETS}  # type: ignore[misc]
    need = reference(AssistanceKind, NEED)
    secretariat = users["secretariat"]
    now = timezone.now()

    # The world's allocations (made before cycles existed) join their kabupaten's cycle for the need.
    allocations: dict[str, Allocation] = {}
    for target, owner, side in (
        (IN_REGION, "partner", "kendal"),
        (PARTNER_B_ALLOCATED, "partner_b", "kendal"),
        (OUT_OF_REGION, "kukar_partner", "kukar"),
    ):
        allocation = Allocation.objects.get(organization=organizations[owner], household=households[target])
        allocation.cycle, allocation.assistance_kind = cycles[side], need
        allocation.source, allocation.created_by = AllocationSource.GAP_LIST, secretariat
        allocation.save()
        allocations[target] = allocation

    def proposal(key: str, owner: str, status: ProposalStatus, household_target: str, verification: str) -> Proposal:
        made: Proposal = ProposalFactory(  # type: ignore[assignment]
            organization=organizations[owner],
            cycle=cycles["kendal"],
            title=f"Program CSR {KENDAL_MARK} {PROPOSAL_MARK[key]}",
            description=f"Uraian {PROPOSAL_MARK[key]}",
            assistance_kind=need,
            status=status,
            submitted_at=None if status == ProposalStatus.DRAFT else now - dt.timedelta(days=3),
            contact_name=f"Narahubung {PROPOSAL_MARK[key]}",
            created_by=users[owner],
        )
        ProposalTarget.objects.create(
            proposal=made,
            household=households[household_target],
            allocation=allocations[household_target],
            verification=verification,
            verified_by=secretariat if verification != VerificationResult.PENDING else None,
            verified_at=now if verification != VerificationResult.PENDING else None,
        )
        steps = {
            ProposalStatus.DRAFT: [],
            ProposalStatus.SUBMITTED: [("submit", "draft", "submitted", users[owner])],
            ProposalStatus.AGREED: [
                ("submit", "draft", "submitted", users[owner]),
                ("verify", "submitted", "verified", secretariat),
                ("agree", "verified", "agreed", secretariat),
            ],
        }[status]
        for action, before, after, actor in steps:
            ProposalTransition.objects.create(
                proposal=made,
                action=action,
                from_status=before,
                to_status=after,
                actor=actor,
                note=f"Catatan {action} {PROPOSAL_MARK[key]}",
            )
        return made

    kukar_proposal = border["csr.proposal"]["kukar"]
    assert isinstance(kukar_proposal, Proposal)
    proposals: dict[str, Proposal] = {
        A_AGREED: proposal(A_AGREED, "partner", ProposalStatus.AGREED, IN_REGION, VerificationResult.ELIGIBLE),
        A_DRAFT: proposal(A_DRAFT, "partner", ProposalStatus.DRAFT, IN_REGION, VerificationResult.PENDING),
        B_SUBMITTED: proposal(
            B_SUBMITTED, "partner_b", ProposalStatus.SUBMITTED, PARTNER_B_ALLOCATED, VerificationResult.PENDING
        ),
        KUKAR_PROPOSAL: kukar_proposal,
    }
    # A's agreed proposal delivers through A's program of the world: its delivery to the in-region household
    # (world.interventions["partner/in-region"]) is the proposal's delivery.
    agreed = proposals[A_AGREED]
    agreed.program = world.programs[PARTNER_PROGRAM]
    agreed.save(update_fields=["program"])
    agreement = Agreement.objects.create(
        proposal=agreed,
        number=f"PKS/{PROPOSAL_MARK[A_AGREED]}/{now.year}",
        signed_on=now.date(),
        place="Kendal",
        government_signatory="Kepala Bappeda Kabupaten Kendal",
        company_signatory=f"Direktur {PROPOSAL_MARK[A_AGREED]}",
        created_by=secretariat,
    )
    agreement.pdf.save(f"pks-{agreed.pk}.pdf", ContentFile(documents.agreement_pdf(agreement)), save=True)

    # A third Kendal company (mining) that refused in writing; its letter is generated as the product does.
    organizations["partner_c"] = OrganizationFactory(  # type: ignore[assignment]
        kind=OrganizationKind.COMPANY, name=f"PT Tambang {KENDAL_MARK} Tiga", region=region(KENDAL), sector="mining"
    )
    refusal_c = Refusal.objects.create(
        organization=organizations["partner_c"],
        cycle=cycles["kendal"],
        reason=f"Perusahaan sedang merugi sehingga tidak ada anggaran CSR {REFUSAL_MARK[REFUSAL_C]}",
        signatory_name=f"Direktur {REFUSAL_MARK[REFUSAL_C]}",
        signatory_position="Direktur Utama",
        letter_number=f"TKPK-CSR/{now.year}/{cycles['kendal'].pk}/{REFUSAL_MARK[REFUSAL_C]}".upper(),
    )
    refusal_c.letter_pdf.save(
        f"surat-{refusal_c.pk}.pdf", ContentFile(documents.refusal_letter_pdf(refusal_c)), save=True
    )
    refusals = {
        REFUSAL_A: Refusal.objects.get(pk=border["csr.refusal"]["kendal"].pk),
        REFUSAL_C: refusal_c,
        REFUSAL_KUKAR: Refusal.objects.get(pk=border["csr.refusal"]["kukar"].pk),
    }
    assert {r.organization_id for r in refusals.values()} == {
        organizations[REFUSAL_OWNER[k]].pk for k in REFUSAL_TARGETS
    }
    assert proposals[KUKAR_PROPOSAL].organization_id == organizations["kukar_partner"].pk
    assert isinstance(organizations["partner_c"], Organization)
    return CsrWorld(
        cycles=cycles,
        proposals=proposals,
        refusals=refusals,
        allocations=allocations,
        need=need,
    )
