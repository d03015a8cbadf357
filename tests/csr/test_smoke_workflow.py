"""One proposal through the whole workflow with real services (a quick end-to-end of csr.services)."""

import datetime as dt
from typing import Any

import pytest
from pypdf import PdfReader

from csr import services
from csr.models import Allocation, AllocationStatus, ProposalStatus, VerificationResult
from programs.models import AssistanceKind
from tests import factories as f
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db


def test_proposal_from_allocation_to_report() -> None:
    secretariat = f.user_with_role(Role.SECRETARIAT)
    company_user = f.user_with_role(Role.PARTNER)
    company = company_user.test_organization
    cycle = f.CsrCycleFactory()
    kind = f.reference(AssistanceKind, "pangan")
    households = f.HouseholdFactory.create_batch(3)
    result = services.allocations_create(
        actor=secretariat,
        cycle=cycle,
        organization=company,
        assistance_kind=kind,
        household_ids=[h.pk for h in households],
    )
    assert result.created == 3
    proposal = f.ProposalFactory(organization=company, cycle=cycle)
    services.proposal_update(actor=company_user, proposal=proposal, household_ids=[h.pk for h in households])
    services.proposal_transition(actor=company_user, proposal=proposal, action="submit")
    targets = list(proposal.targets.order_by("id"))
    services.target_verify(actor=secretariat, target=targets[0], result=VerificationResult.ELIGIBLE)
    services.target_verify(actor=secretariat, target=targets[1], result=VerificationResult.ELIGIBLE)
    services.target_verify(actor=secretariat, target=targets[2], result=VerificationResult.MOVED, note="ke Semarang")
    assert Allocation.objects.get(pk=targets[2].allocation_id).status == AllocationStatus.RELEASED
    services.proposal_transition(actor=secretariat, proposal=proposal, action="verify")
    proposal = services.proposal_transition(
        actor=secretariat,
        proposal=proposal,
        action="agree",
        number="PKS/001/2026",
        signed_on=dt.date.today(),
        government_signatory="Kepala Bappeda",
        company_signatory="Direktur PT",
    )
    assert proposal.status == ProposalStatus.AGREED
    assert proposal.program is not None
    reader = PdfReader(proposal.agreement.pdf.path)
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert households[0].head_name in text
    assert households[2].head_name not in text
    services.delivery_record(
        actor=company_user, proposal=proposal, household=households[0], delivered_on=dt.date.today()
    )
    services.proposal_transition(actor=company_user, proposal=proposal, action="implement")
    proposal = services.proposal_transition(actor=company_user, proposal=proposal, action="report", note="Selesai.")
    assert proposal.status == ProposalStatus.REPORTED
    assert [t.to_status for t in proposal.transitions.all()] == [
        "submitted",
        "verified",
        "agreed",
        "implemented",
        "reported",
    ]


def test_editing_a_returned_proposal_keeps_the_field_verification_of_kept_targets() -> None:
    secretariat = f.user_with_role(Role.SECRETARIAT)
    company_user = f.user_with_role(Role.PARTNER)
    company = company_user.test_organization
    cycle = f.CsrCycleFactory()
    kind = f.reference(AssistanceKind, "pangan")
    first, second, third = f.HouseholdFactory.create_batch(3)
    services.allocations_create(
        actor=secretariat,
        cycle=cycle,
        organization=company,
        assistance_kind=kind,
        household_ids=[first.pk, second.pk, third.pk],
    )
    proposal = f.ProposalFactory(organization=company, cycle=cycle)
    services.proposal_update(actor=company_user, proposal=proposal, household_ids=[first.pk, second.pk])
    services.proposal_transition(actor=company_user, proposal=proposal, action="submit")
    by_household = {t.household_id: t for t in proposal.targets.all()}
    services.target_verify(actor=secretariat, target=by_household[first.pk], result=VerificationResult.ELIGIBLE)
    services.target_verify(
        actor=secretariat, target=by_household[second.pk], result=VerificationResult.DECEASED, note="2026"
    )
    services.proposal_transition(actor=secretariat, proposal=proposal, action="return", note="Tambah sasaran")

    # The partner keeps both earlier targets (the deceased one was released but stays listed) and adds a third.
    services.proposal_update(actor=company_user, proposal=proposal, household_ids=[first.pk, second.pk, third.pk])
    results = dict(proposal.targets.values_list("household_id", "verification"))
    assert results == {
        first.pk: VerificationResult.ELIGIBLE,
        second.pk: VerificationResult.DECEASED,
        third.pk: VerificationResult.PENDING,
    }
    # Dropping a target removes only that one.
    services.proposal_update(actor=company_user, proposal=proposal, household_ids=[first.pk, third.pk])
    assert dict(proposal.targets.values_list("household_id", "verification")) == {
        first.pk: VerificationResult.ELIGIBLE,
        third.pk: VerificationResult.PENDING,
    }


@pytest.mark.postgres
def test_a_big_allocation_refreshes_the_table_statistics_after_the_commit(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import connection

    monkeypatch.setattr(services, "BIG_ALLOCATION", 2)
    secretariat = f.user_with_role(Role.SECRETARIAT)
    company = f.user_with_role(Role.PARTNER).test_organization
    households = f.HouseholdFactory.create_batch(2)

    def analysed() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'csr_allocation'")
            return int(cursor.fetchone()[0])

    before = analysed()
    with django_capture_on_commit_callbacks(execute=True):
        services.allocations_create(
            actor=secretariat,
            cycle=f.CsrCycleFactory(),
            organization=company,
            assistance_kind=f.reference(AssistanceKind, "pangan"),
            household_ids=[h.pk for h in households],
        )
    # The statistics collector reports asynchronously; the counter is read from this backend's snapshot.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
    assert analysed() == before + 1


def test_the_refusal_letter_is_addressed_to_the_bupati_through_bappeda() -> None:
    company_user = f.user_with_role(Role.PARTNER)
    refusal = services.refusal_submit(
        actor=company_user,
        organization=company_user.test_organization,
        cycle=f.CsrCycleFactory(),
        reason="Anggaran TJSL tahun ini sudah terikat program rehabilitasi lahan pascatambang.",
        signatory_name="Andi Wijaya",
        signatory_position="Direktur Utama",
    )
    reader = PdfReader(refusal.letter_pdf.path)
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Bupati Kendal melalui Kepala Bappeda selaku Sekretariat TKPK" in text
    assert "rehabilitasi lahan pascatambang" in text
    assert refusal.letter_number in text
