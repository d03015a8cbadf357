"""The proposal workflow of csr.services: every action × every status × every actor (generated from
``services.TRANSITIONS`` so the matrix cannot drift from the code), and each condition a step refuses."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from csr import services
from csr.models import (
    Agreement,
    CycleReopen,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    ProposalTransition,
    Refusal,
    VerificationResult,
)
from tests import factories as f
from tests.csr.rules_world import (
    ACTORS,
    World,
    build_world,
    draft_with_targets,
    outer_transaction,
    proposal_in,
)
from tkpk.exceptions import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def shared(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with outer_transaction(django_db_blocker):
        with django_db_blocker.unblock():
            built = build_world()
        yield built


@pytest.fixture
def world(shared: World, db: None, settings: Any, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    shared.cycle.refresh_from_db()  # a test may have moved the deadline (rolled back since)
    return shared


# What every action is called with in the matrix: enough for its own conditions to pass.
ARGS: dict[str, dict[str, Any]] = {
    "submit": {},
    "withdraw": {"note": "Perusahaan mengalihkan anggaran."},
    "return": {"note": "Lengkapi jadwal penyaluran."},
    "verify": {},
    "agree": {
        "number": "PKS/CSR/001",
        "signed_on": dt.date(2026, 3, 2),
        "government_signatory": "Kepala Bappeda",
        "company_signatory": "Direktur Utama",
        "place": "Kendal",
    },
    "implement": {},
    "report": {"note": "Bantuan pangan tersalurkan kepada seluruh sasaran."},
}

FORBIDDEN_MESSAGES = {
    services.PARTNER: "Anda hanya dapat bertindak untuk organisasi Anda sendiri.",
    services.SECRETARIAT: "Hanya sekretariat TKPK wilayah siklus ini yang dapat melakukan tindakan ini.",
}


def expected(action: str, status: str, actor: str) -> str:
    """The outcome the table promises: the new status, or the refusal's code."""
    sources, target, who = services.TRANSITIONS[action]
    if ACTORS[actor] != who:
        return "forbidden"
    if status not in sources:
        return "invalid_state"
    return str(target)


MATRIX = [
    pytest.param(action, status, actor, id=f"{action}-{status}-{actor}")
    for action, status, actor in itertools.product(services.TRANSITIONS, ProposalStatus.values, ACTORS)
]


def test_the_table_is_the_workflow_of_the_issue() -> None:
    """draft → submitted → verified → agreed → implemented → reported, plus returned and withdrawn: pinned
    here literally so a change of TRANSITIONS is a deliberate one."""
    table = {
        action: (sorted(str(s) for s in sources), str(target), who)
        for action, (sources, target, who) in services.TRANSITIONS.items()
    }
    assert table == {
        "submit": (["draft", "returned"], "submitted", "partner"),
        "withdraw": (["draft", "returned", "submitted", "verified"], "withdrawn", "partner"),
        "return": (["submitted", "verified"], "returned", "secretariat"),
        "verify": (["submitted"], "verified", "secretariat"),
        "agree": (["verified"], "agreed", "secretariat"),
        "implement": (["agreed"], "implemented", "partner"),
        "report": (["implemented"], "reported", "partner"),
    }
    # Every status but the two ends can be left; reported and withdrawn are final.
    leaving = {s for sources, _t, _w in services.TRANSITIONS.values() for s in sources}
    assert set(ProposalStatus.values) - leaving == {"reported", "withdrawn"}
    assert len(MATRIX) == len(services.TRANSITIONS) * len(ProposalStatus.values) * len(ACTORS) == 336


@pytest.mark.parametrize(("action", "status", "actor"), MATRIX)
def test_transition_matrix(world: World, action: str, status: str, actor: str) -> None:
    proposal = proposal_in(world, status)
    user = world.actor(actor)
    logged = ProposalTransition.objects.filter(proposal=proposal).count()
    outcome = expected(action, status, actor)

    if outcome in ("forbidden", "invalid_state"):
        with pytest.raises(DomainError) as refused:
            services.proposal_transition(actor=user, proposal=proposal, action=action, **ARGS[action])
        assert refused.value.code == outcome
        if outcome == "forbidden":
            assert refused.value.message == FORBIDDEN_MESSAGES[services.TRANSITIONS[action][2]]
        else:
            label = services.action_label(action).lower()
            assert refused.value.message == (f"Usulan berstatus {ProposalStatus(status).label} tidak dapat di-{label}.")
        assert Proposal.objects.get(pk=proposal.pk).status == status
        assert ProposalTransition.objects.filter(proposal=proposal).count() == logged
        assert not Agreement.objects.filter(number=ARGS["agree"]["number"]).exists()
        return

    result = services.proposal_transition(actor=user, proposal=proposal, action=action, **ARGS[action])
    assert result.status == outcome
    assert Proposal.objects.get(pk=proposal.pk).status == outcome
    step = ProposalTransition.objects.filter(proposal=proposal).order_by("-id").first()
    assert ProposalTransition.objects.filter(proposal=proposal).count() == logged + 1
    assert step is not None
    assert (step.action, step.from_status, step.to_status, step.actor_id) == (action, status, outcome, user.pk)
    assert step.note == ARGS[action].get("note", "")


@pytest.mark.parametrize(
    ("status", "actor"),
    [pytest.param(s, a, id=f"{s}-{a}") for s, a in itertools.product(ProposalStatus.values, ACTORS)],
)
def test_available_actions_are_the_allowed_cells(world: World, status: str, actor: str) -> None:
    proposal = proposal_in(world, status)
    allowed = [a for a in services.TRANSITIONS if expected(a, status, actor) not in ("forbidden", "invalid_state")]
    assert services.available_actions(actor=world.actor(actor), proposal=proposal) == allowed


# ------------------------------------------------------------------------------------------------- deadline


def past_deadline(world: World) -> None:
    world.cycle.proposal_deadline = timezone.now() - dt.timedelta(hours=3)
    world.cycle.save(update_fields=["proposal_deadline"])


def test_submit_after_the_deadline_is_refused_naming_the_deadline(world: World) -> None:
    proposal = draft_with_targets(world)
    past_deadline(world)
    with pytest.raises(DomainError) as refused:
        services.proposal_transition(actor=world.company_user, proposal=proposal, action="submit")
    assert refused.value.code == "deadline_passed"
    deadline = timezone.localtime(world.cycle.proposal_deadline).strftime("%d-%m-%Y %H:%M")
    assert refused.value.message == (
        f"Batas pengajuan usulan {world.cycle.name} sudah lewat ({deadline}). Hubungi sekretariat TKPK bila "
        "pengajuan perlu dibuka kembali."
    )
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.DRAFT
    assert not ProposalTransition.objects.filter(proposal=proposal, action="submit").exists()


def test_submit_at_the_deadline_itself_is_still_on_time(world: World) -> None:
    proposal = draft_with_targets(world)
    deadline = world.cycle.proposal_deadline
    services.proposal_transition(actor=world.company_user, proposal=proposal, action="submit", now=deadline)
    late = draft_with_targets(world, households=world.households[:1])
    with pytest.raises(DomainError) as refused:
        services.proposal_transition(
            actor=world.company_user, proposal=late, action="submit", now=deadline + dt.timedelta(seconds=1)
        )
    assert refused.value.code == "deadline_passed"


def test_a_proposal_returned_for_revision_goes_back_after_the_deadline(world: World) -> None:
    """Review happens after the deadline: the revision of a proposal submitted in time needs no reopening,
    while a first submission (a draft) is still refused."""
    proposal = draft_with_targets(world, households=world.households[:1])
    services.proposal_transition(actor=world.company_user, proposal=proposal, action="submit")
    past_deadline(world)
    services.proposal_transition(actor=world.secretariat, proposal=proposal, action="return", note="Perbaiki jadwal")
    services.proposal_update(actor=world.company_user, proposal=proposal, ends_on=dt.date.today() + dt.timedelta(60))
    again = services.proposal_transition(actor=world.company_user, proposal=proposal, action="submit")
    assert again.status == ProposalStatus.SUBMITTED
    assert [t.action for t in again.transitions.all()] == ["submit", "return", "submit"]
    draft = draft_with_targets(world, households=world.households[1:2])
    with pytest.raises(DomainError) as late:
        services.proposal_transition(actor=world.company_user, proposal=draft, action="submit")
    assert late.value.code == "deadline_passed"


def test_reopening_lets_only_that_company_submit(world: World) -> None:
    mine = draft_with_targets(world, households=world.households[:1])
    services.allocations_create(
        actor=world.secretariat,
        cycle=world.cycle,
        organization=world.other_company,
        assistance_kind=world.other_kind,
        household_ids=[world.households[2].pk],
    )
    theirs = f.ProposalFactory(organization=world.other_company, cycle=world.cycle, assistance_kind=world.other_kind)
    services.proposal_update(actor=world.other_user, proposal=theirs, household_ids=[world.households[2].pk])
    past_deadline(world)

    # Reopening needs a note and a new deadline in the future; the partner cannot reopen for itself.
    until = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(DomainError) as no_note:
        services.cycle_reopen(
            actor=world.secretariat, cycle=world.cycle, organization=world.company, until=until, note=" "
        )
    assert (no_note.value.code, no_note.value.message) == (
        "note_required",
        "Tuliskan catatan alasan pembukaan kembali.",
    )
    with pytest.raises(DomainError) as past:
        services.cycle_reopen(
            actor=world.secretariat,
            cycle=world.cycle,
            organization=world.company,
            until=timezone.now() - dt.timedelta(minutes=1),
            note="Sakit",
        )
    assert (past.value.code, past.value.message) == ("until_past", "Batas baru harus setelah saat ini.")
    with pytest.raises(DomainError) as self_service:
        services.cycle_reopen(
            actor=world.company_user, cycle=world.cycle, organization=world.company, until=until, note="Tolong"
        )
    assert self_service.value.code == "forbidden"
    assert not CycleReopen.objects.exists()

    reopen = services.cycle_reopen(
        actor=world.secretariat,
        cycle=world.cycle,
        organization=world.company,
        until=until,
        note="Surat direksi terlambat karena banjir.",
    )
    assert (reopen.note, reopen.created_by_id) == ("Surat direksi terlambat karena banjir.", world.secretariat.pk)
    submitted = services.proposal_transition(actor=world.company_user, proposal=mine, action="submit")
    assert submitted.status == ProposalStatus.SUBMITTED
    with pytest.raises(DomainError) as other:
        services.proposal_transition(actor=world.other_user, proposal=theirs, action="submit")
    assert other.value.code == "deadline_passed"
    assert Proposal.objects.get(pk=theirs.pk).status == ProposalStatus.DRAFT
    # The reopening ends too.
    later = until + dt.timedelta(minutes=1)
    again = draft_with_targets(world, households=world.households[1:2])
    with pytest.raises(DomainError) as ended:
        services.proposal_transition(actor=world.company_user, proposal=again, action="submit", now=later)
    assert ended.value.code == "deadline_passed"
    assert timezone.localtime(until).strftime("%d-%m-%Y %H:%M") in ended.value.message


# ------------------------------------------------------------------------------------ conditions of each step


def refused(code: str, message: str, call: Any, proposal: Proposal) -> None:
    before = Proposal.objects.get(pk=proposal.pk).status
    logged = ProposalTransition.objects.filter(proposal=proposal).count()
    with pytest.raises(DomainError) as caught:
        call()
    assert (caught.value.code, caught.value.message) == (code, message)
    assert Proposal.objects.get(pk=proposal.pk).status == before
    assert ProposalTransition.objects.filter(proposal=proposal).count() == logged


def test_submit_without_targets_is_refused(world: World) -> None:
    proposal = f.ProposalFactory(organization=world.company, cycle=world.cycle)
    refused(
        "no_targets",
        "Pilih setidaknya satu keluarga sasaran sebelum mengajukan.",
        lambda: services.proposal_transition(actor=world.company_user, proposal=proposal, action="submit"),
        proposal,
    )


def test_return_without_a_note_is_refused(world: World) -> None:
    proposal = proposal_in(world, ProposalStatus.SUBMITTED)
    refused(
        "note_required",
        "Tuliskan catatan perbaikan untuk mitra.",
        lambda: services.proposal_transition(actor=world.secretariat, proposal=proposal, action="return", note="  "),
        proposal,
    )


def test_withdraw_after_submission_needs_a_reason_but_a_draft_does_not(world: World) -> None:
    proposal = proposal_in(world, ProposalStatus.SUBMITTED)
    refused(
        "note_required",
        "Tuliskan alasan penarikan usulan.",
        lambda: services.proposal_transition(actor=world.company_user, proposal=proposal, action="withdraw"),
        proposal,
    )
    draft = proposal_in(world, ProposalStatus.DRAFT)
    assert services.proposal_transition(actor=world.company_user, proposal=draft, action="withdraw").status == (
        ProposalStatus.WITHDRAWN
    )


def submitted(world: World) -> Proposal:
    proposal = draft_with_targets(world)
    return services.proposal_transition(actor=world.company_user, proposal=proposal, action="submit")


def test_verify_with_pending_targets_is_refused(world: World) -> None:
    proposal = submitted(world)
    first = proposal.targets.order_by("id").first()
    assert first is not None
    services.target_verify(actor=world.secretariat, target=first, result=VerificationResult.ELIGIBLE)
    refused(
        "verification_pending",
        "Masih ada 2 sasaran yang belum diverifikasi di lapangan.",
        lambda: services.proposal_transition(actor=world.secretariat, proposal=proposal, action="verify"),
        proposal,
    )


def test_verify_with_no_eligible_target_is_refused(world: World) -> None:
    proposal = submitted(world)
    for target, result in zip(
        proposal.targets.order_by("id"),
        [VerificationResult.MOVED, VerificationResult.DECEASED, VerificationResult.NOT_FOUND],
        strict=True,
    ):
        services.target_verify(actor=world.secretariat, target=target, result=result)
    refused(
        "no_eligible",
        "Tidak ada sasaran yang layak; kembalikan usulan ke mitra untuk diperbaiki.",
        lambda: services.proposal_transition(actor=world.secretariat, proposal=proposal, action="verify"),
        proposal,
    )


def test_field_verification_is_only_for_submitted_proposals_by_the_secretariat(world: World) -> None:
    draft = draft_with_targets(world)
    target = draft.targets.first()
    assert target is not None
    with pytest.raises(DomainError) as state:
        services.target_verify(actor=world.secretariat, target=target, result=VerificationResult.ELIGIBLE)
    assert (state.value.code, state.value.message) == (
        "invalid_state",
        "Verifikasi lapangan hanya untuk usulan yang sudah diajukan.",
    )
    services.proposal_transition(actor=world.company_user, proposal=draft, action="submit")
    for user in (world.company_user, world.other_secretariat, world.opd_officer, world.leadership):
        with pytest.raises(DomainError) as who:
            services.target_verify(actor=user, target=target, result=VerificationResult.ELIGIBLE)
        assert who.value.code == "forbidden"
    with pytest.raises(DomainError) as other:
        services.target_verify(actor=world.secretariat, target=target, result=VerificationResult.OTHER)
    assert (other.value.code, other.value.message) == ("note_required", "Hasil 'lainnya' wajib disertai catatan.")
    with pytest.raises(DomainError) as pending:
        services.target_verify(actor=world.secretariat, target=target, result=VerificationResult.PENDING)
    assert (pending.value.code, pending.value.message) == ("invalid_result", "Hasil verifikasi tidak dikenal.")
    assert ProposalTarget.objects.get(pk=target.pk).verification == VerificationResult.PENDING


def verified(world: World) -> Proposal:
    proposal = submitted(world)
    for target in proposal.targets.all():
        services.target_verify(actor=world.secretariat, target=target, result=VerificationResult.ELIGIBLE)
    return services.proposal_transition(actor=world.secretariat, proposal=proposal, action="verify")


@pytest.mark.parametrize("missing", ["number", "signed_on", "government_signatory", "company_signatory"])
def test_agree_without_the_agreement_data_is_refused(world: World, missing: str) -> None:
    proposal = verified(world)
    details = {**ARGS["agree"], missing: "   "}  # blank text is no value
    label = {
        "number": "nomor PKS",
        "signed_on": "tanggal penandatanganan",
        "government_signatory": "penandatangan pemerintah daerah",
        "company_signatory": "penandatangan mitra",
    }[missing]
    refused(
        "agreement_incomplete",
        f"Lengkapi data PKS: {label}.",
        lambda: services.proposal_transition(actor=world.secretariat, proposal=proposal, action="agree", **details),
        proposal,
    )
    assert not Agreement.objects.filter(proposal=proposal).exists()
    assert Proposal.objects.get(pk=proposal.pk).program_id is None


def test_agree_with_a_pks_number_already_used_is_refused(world: World) -> None:
    first = verified(world)
    services.proposal_transition(actor=world.secretariat, proposal=first, action="agree", **ARGS["agree"])
    second = f.ProposalFactory(organization=world.company, cycle=world.cycle)
    services.proposal_update(actor=world.company_user, proposal=second, household_ids=[world.households[0].pk])
    services.proposal_transition(actor=world.company_user, proposal=second, action="submit")
    target = second.targets.get()
    services.target_verify(actor=world.secretariat, target=target, result=VerificationResult.ELIGIBLE)
    services.proposal_transition(actor=world.secretariat, proposal=second, action="verify")
    refused(
        "duplicate_number",
        "Nomor PKS pks/csr/001 sudah dipakai.",
        lambda: services.proposal_transition(
            actor=world.secretariat, proposal=second, action="agree", **{**ARGS["agree"], "number": " pks/csr/001 "}
        ),
        second,
    )
    assert Agreement.objects.filter(number="PKS/CSR/001").get().proposal_id == first.pk


def test_implement_without_a_delivery_is_refused(world: World) -> None:
    proposal = verified(world)
    proposal = services.proposal_transition(actor=world.secretariat, proposal=proposal, action="agree", **ARGS["agree"])
    assert proposal.program is not None
    refused(
        "no_deliveries",
        "Laporkan setidaknya satu penyaluran sebelum menyatakan program terlaksana.",
        lambda: services.proposal_transition(actor=world.company_user, proposal=proposal, action="implement"),
        proposal,
    )
    # A planned (not delivered) one is no delivery either.
    f.InterventionFactory(program=proposal.program, household=world.households[0], status="planned")
    refused(
        "no_deliveries",
        "Laporkan setidaknya satu penyaluran sebelum menyatakan program terlaksana.",
        lambda: services.proposal_transition(actor=world.company_user, proposal=proposal, action="implement"),
        proposal,
    )


def test_report_without_text_is_refused(world: World) -> None:
    proposal = proposal_in(world, ProposalStatus.IMPLEMENTED)
    refused(
        "report_required",
        "Tuliskan laporan akhir pelaksanaan program.",
        lambda: services.proposal_transition(actor=world.company_user, proposal=proposal, action="report", note=" "),
        proposal,
    )
    done = services.proposal_transition(
        actor=world.company_user, proposal=proposal, action="report", final_report="Tersalurkan 3 paket."
    )
    assert (done.status, done.final_report) == (ProposalStatus.REPORTED, "Tersalurkan 3 paket.")


def test_unknown_action_is_refused(world: World) -> None:
    proposal = proposal_in(world, ProposalStatus.DRAFT)
    refused(
        "unknown_action",
        "Tindakan tidak dikenal: approve",
        lambda: services.proposal_transition(actor=world.secretariat, proposal=proposal, action="approve"),
        proposal,
    )


# ---------------------------------------------------------------------------------------------- refusals


def refuse(world: World, **kw: Any) -> Refusal:
    return services.refusal_submit(
        actor=world.company_user,
        organization=world.company,
        cycle=world.cycle,
        reason=kw.pop("reason", "Anggaran CSR tahun ini sudah habis untuk program beasiswa."),
        signatory_name="Ir. Sutrisno",
        signatory_position="Direktur",
        **kw,
    )


def test_submit_after_a_refusal_is_refused(world: World) -> None:
    proposal = draft_with_targets(world)
    refusal = refuse(world)
    assert refusal.letter_pdf.name
    refused(
        "already_refused",
        "Organisasi Anda sudah menyatakan tidak berpartisipasi pada siklus ini.",
        lambda: services.proposal_transition(actor=world.company_user, proposal=proposal, action="submit"),
        proposal,
    )


@pytest.mark.parametrize(
    "status", [ProposalStatus.SUBMITTED, ProposalStatus.RETURNED, ProposalStatus.VERIFIED, ProposalStatus.AGREED]
)
def test_a_refusal_while_a_proposal_is_in_the_workflow_is_refused(world: World, status: str) -> None:
    proposal_in(world, status)
    with pytest.raises(DomainError) as caught:
        refuse(world)
    assert (caught.value.code, caught.value.message) == (
        "proposal_active",
        "Organisasi Anda memiliki usulan yang sedang berjalan; tarik usulan itu lebih dahulu.",
    )
    assert not Refusal.objects.exists()


def test_a_refusal_after_withdrawing_is_accepted_and_a_second_one_is_refused(world: World) -> None:
    proposal_in(world, ProposalStatus.WITHDRAWN)
    proposal_in(world, ProposalStatus.DRAFT)
    first = refuse(world)
    assert first.letter_number == f"TKPK-CSR/{world.cycle.year}/{world.cycle.pk}/{world.company.short_code}".upper()
    with pytest.raises(DomainError) as caught:
        refuse(world, reason="Alasan lain yang juga cukup panjang untuk surat.")
    assert (caught.value.code, caught.value.message) == (
        "already_refused",
        "Organisasi Anda sudah mengirim surat tidak berpartisipasi untuk siklus ini.",
    )
    assert Refusal.objects.get().reason == "Anggaran CSR tahun ini sudah habis untuk program beasiswa."


def test_a_refusal_needs_a_reason_a_signatory_and_the_own_company(world: World) -> None:
    with pytest.raises(DomainError) as short:
        refuse(world, reason="Tidak ada dana")
    assert (short.value.code, short.value.message) == (
        "reason_short",
        "Tuliskan alasan tidak berpartisipasi dengan jelas (minimal 20 karakter).",
    )
    with pytest.raises(DomainError) as other:
        services.refusal_submit(
            actor=world.other_user,
            organization=world.company,
            cycle=world.cycle,
            reason="Anggaran CSR tahun ini sudah habis untuk program beasiswa.",
            signatory_name="X",
            signatory_position="Y",
        )
    assert other.value.code == "forbidden"
    assert not Refusal.objects.exists()


# ------------------------------------------------------------------------------------------ editing, targets


@pytest.mark.parametrize(
    "status",
    [s for s in ProposalStatus.values if s not in (ProposalStatus.DRAFT, ProposalStatus.RETURNED)],
)
def test_proposal_update_outside_draft_or_returned_is_refused(world: World, status: str) -> None:
    proposal = proposal_in(world, status)
    with pytest.raises(DomainError) as caught:
        services.proposal_update(actor=world.company_user, proposal=proposal, title="Judul baru")
    assert caught.value.code == "not_editable"
    assert caught.value.message == f"Usulan berstatus {ProposalStatus(status).label} tidak dapat diubah."
    assert Proposal.objects.get(pk=proposal.pk).title == proposal.title


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", ProposalStatus.AGREED), ("final_report", "Selesai"), ("submitted_at", None), ("program", None)],
)
def test_the_workflow_fields_cannot_be_written_through_the_form(world: World, field: str, value: Any) -> None:
    proposal = proposal_in(world, ProposalStatus.DRAFT)
    with pytest.raises(DomainError) as caught:
        services.proposal_update(actor=world.company_user, proposal=proposal, **{field: value})
    assert (caught.value.code, caught.value.message) == (
        "fixed_fields",
        f"Kolom {field} tidak dapat diisi pada usulan.",
    )
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.DRAFT
    with pytest.raises(DomainError) as created:
        services.proposal_create(
            actor=world.company_user,
            organization=world.company,
            cycle=world.cycle,
            title="Langsung disepakati",
            assistance_kind=world.kind,
            cluster=proposal.cluster,
            strategy=proposal.strategy,
            starts_on=dt.date(2026, 1, 1),
            ends_on=dt.date(2026, 6, 30),
            contact_name="Budi",
            **{field: value},
        )
    assert created.value.code == "fixed_fields"
    assert not Proposal.objects.filter(title="Langsung disepakati").exists()


def test_proposal_update_by_another_company_is_refused(world: World) -> None:
    proposal = proposal_in(world, ProposalStatus.DRAFT)
    with pytest.raises(DomainError) as caught:
        services.proposal_update(actor=world.other_user, proposal=proposal, title="Diambil alih")
    assert caught.value.code == "forbidden"
    assert Proposal.objects.get(pk=proposal.pk).title == proposal.title


def test_targets_outside_the_allocation_are_refused(world: World) -> None:
    proposal = draft_with_targets(world, households=world.households[:1])
    stranger = f.HouseholdFactory(desa=f.desa("3324012001"), desil=1)
    # Allocated to the other company, or for an earlier cycle: not this company's allocation here.
    services.allocations_create(
        actor=world.secretariat,
        cycle=world.cycle,
        organization=world.other_company,
        assistance_kind=world.kind,
        household_ids=[world.households[1].pk],
    )
    for ids in ([stranger.pk], [world.households[0].pk, world.households[1].pk]):
        with pytest.raises(DomainError) as caught:
            services.proposal_update(actor=world.company_user, proposal=proposal, household_ids=ids)
        assert caught.value.code == "target_not_allocated"
        assert caught.value.message == "1 keluarga yang dipilih bukan sasaran alokasi Anda pada siklus ini."
    assert list(proposal.targets.values_list("household_id", flat=True)) == [world.households[0].pk]


def test_targets_released_from_the_allocation_are_refused(world: World) -> None:
    proposal = draft_with_targets(world, households=world.households[:1])
    allocation = proposal.targets.get().allocation
    assert allocation is not None
    services.allocation_release(actor=world.secretariat, allocation=allocation, reason="Pindah domisili")
    with pytest.raises(DomainError) as caught:
        services.proposal_update(actor=world.company_user, proposal=proposal, household_ids=[world.households[0].pk])
    assert caught.value.code == "target_not_allocated"


def test_additional_targets_need_a_reason_and_an_identity(world: World) -> None:
    proposal = draft_with_targets(world, households=world.households[:1])
    desa = f.desa("3324012001")
    cases = [
        (
            services.AdditionalTarget(reason="  ", name="Sumini", address="RT 1 RW 2", desa=desa),
            ("reason_required", "Setiap sasaran tambahan wajib disertai alasan."),
        ),
        (
            services.AdditionalTarget(reason="Janda lansia belum terdata", name="Sumini", address="", desa=desa),
            (
                "additional_incomplete",
                "Sasaran tambahan di luar registri wajib diisi nama, alamat dan desa/kelurahan.",
            ),
        ),
        (
            services.AdditionalTarget(reason="Janda lansia belum terdata", name="Sumini", address="RT 1 RW 2"),
            (
                "additional_incomplete",
                "Sasaran tambahan di luar registri wajib diisi nama, alamat dan desa/kelurahan.",
            ),
        ),
    ]
    for item, (code, message) in cases:
        with pytest.raises(DomainError) as caught:
            services.proposal_update(actor=world.company_user, proposal=proposal, additional=[item])
        assert (caught.value.code, caught.value.message) == (code, message)
        assert proposal.targets.count() == 1
    ok = services.AdditionalTarget(reason="Janda lansia belum terdata", name="Sumini", address="RT 1 RW 2", desa=desa)
    services.proposal_update(actor=world.company_user, proposal=proposal, additional=[ok])
    extra = proposal.targets.get(is_additional=True)
    assert (extra.additional_reason, extra.proposed_name, extra.household_id) == (
        "Janda lansia belum terdata",
        "Sumini",
        None,
    )
    # The allocated target stays when only the additional ones change.
    assert proposal.targets.filter(is_additional=False).get().household_id == world.households[0].pk
