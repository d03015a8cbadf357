"""Compliance of a CSR cycle: required-sector companies with their proposal, refusal or nothing by their own
deadline (reopenings honoured), overdue realisation of agreed programs, and the page per role."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from csr import compliance, services
from csr.models import Reminder, ReminderKind
from tests import factories as f
from tests.csr import compliance_world as w
from tkpk.models import CompanySector, OrganizationKind
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

REFUSAL_REASON = "Anggaran TJSL tahun ini sudah terserap untuk program beasiswa di kecamatan lain."


@pytest.fixture
def secretariat() -> Any:
    return f.user_with_role(Role.SECRETARIAT)


@pytest.fixture
def world(secretariat: Any) -> dict[str, Any]:
    """A cycle whose deadline has passed: a plantation company that did nothing, one that refused, one that
    submitted (before the deadline), a mining company reopened until 3 days from now, a bank (not required),
    a plantation company of another kabupaten, and a BAZNAS with an allocation (not required)."""
    cycle = w.open_cycle()
    silent = w.company(CompanySector.PLANTATION, name="PT Sawit Diam")
    refusing = w.company(CompanySector.PLANTATION, name="PT Sawit Menolak")
    proposing = w.company(CompanySector.MINING, name="PT Tambang Mengusulkan")
    reopened = w.company(CompanySector.MINING, name="PT Tambang Dibuka Ulang")
    bank = w.company(CompanySector.BANKING, name="Bank Daerah Uji")
    elsewhere = w.company(CompanySector.PLANTATION, name="PT Sawit Kukar", region=f.region(f.KUTAI_KARTANEGARA))
    baznas = w.company(kind=OrganizationKind.BAZNAS, name="BAZNAS Kendal Uji")
    w.refuse(partner=refusing, cycle=cycle, reason=REFUSAL_REASON)
    proposal = w.submitted_proposal(
        secretariat=secretariat, partner=proposing, cycle=cycle, households=f.HouseholdFactory.create_batch(2)
    )
    services.allocations_create(
        actor=secretariat,
        cycle=cycle,
        organization=baznas.test_organization,
        assistance_kind=proposal.assistance_kind,
        household_ids=[f.HouseholdFactory().pk],
    )
    now = timezone.now()
    w.move_deadline(cycle, now - dt.timedelta(days=2))
    services.cycle_reopen(
        actor=secretariat,
        cycle=cycle,
        organization=reopened.test_organization,
        until=now + dt.timedelta(days=3),
        note="Surat direksi terlambat diterima",
    )
    return {
        "cycle": cycle,
        "silent": silent,
        "refusing": refusing,
        "proposing": proposing,
        "reopened": reopened,
        "bank": bank,
        "elsewhere": elsewhere,
        "baznas": baznas,
        "proposal": proposal,
        "now": now,
    }


def rows_by_org(report: compliance.ComplianceReport) -> dict[int, compliance.ComplianceRow]:
    return {r.organization_id: r for r in report.rows}


def org_id(user: Any) -> int:
    return int(user.test_organization.pk)


def test_silent_plantation_company_is_flagged_after_the_deadline(secretariat: Any, world: dict[str, Any]) -> None:
    report = compliance.cycle_compliance(user=secretariat, cycle=world["cycle"], now=world["now"])
    row = rows_by_org(report)[org_id(world["silent"])]
    assert (row.required, row.state, row.flagged) == (True, compliance.STATE_NONE, True)
    assert row.deadline == world["cycle"].proposal_deadline and not row.reopened
    assert row.days_left == -2


def test_refusing_company_is_listed_as_refused_with_its_reason(secretariat: Any, world: dict[str, Any]) -> None:
    report = compliance.cycle_compliance(user=secretariat, cycle=world["cycle"], now=world["now"])
    row = rows_by_org(report)[org_id(world["refusing"])]
    assert (row.state, row.flagged) == (compliance.STATE_REFUSAL, False)
    assert row.refusal is not None and row.refusal.reason == REFUSAL_REASON
    assert row.refusal.acknowledged_at is None


def test_proposing_company_shows_its_furthest_status(secretariat: Any, world: dict[str, Any]) -> None:
    report = compliance.cycle_compliance(user=secretariat, cycle=world["cycle"], now=world["now"])
    row = rows_by_org(report)[org_id(world["proposing"])]
    assert (row.state, row.furthest_status, row.proposals, row.flagged) == (
        compliance.STATE_PROPOSAL,
        "submitted",
        1,
        False,
    )
    # A second proposal left as a draft does not count; a verified one would be the furthest.
    f.ProposalFactory(organization=world["proposing"].test_organization, cycle=world["cycle"])
    row = rows_by_org(compliance.cycle_compliance(user=secretariat, cycle=world["cycle"], now=world["now"]))[
        org_id(world["proposing"])
    ]
    assert (row.proposals, row.drafts, row.furthest_status) == (1, 1, "submitted")


def test_a_company_with_only_a_withdrawn_proposal_is_flagged(secretariat: Any, world: dict[str, Any]) -> None:
    services.proposal_transition(
        actor=world["proposing"], proposal=world["proposal"], action="withdraw", note="Direksi membatalkan"
    )
    report = compliance.cycle_compliance(user=secretariat, cycle=world["cycle"], now=world["now"])
    row = rows_by_org(report)[org_id(world["proposing"])]
    assert (row.state, row.flagged, row.withdrawn, row.proposals) == (compliance.STATE_NONE, True, 1, 0)


def test_reopened_company_is_not_flagged_until_its_new_deadline(secretariat: Any, world: dict[str, Any]) -> None:
    report = compliance.cycle_compliance(user=secretariat, cycle=world["cycle"], now=world["now"])
    row = rows_by_org(report)[org_id(world["reopened"])]
    assert (row.state, row.reopened, row.flagged, row.days_left) == (compliance.STATE_NONE, True, False, 3)
    assert row.deadline == services.submission_deadline(cycle=world["cycle"], organization_id=org_id(world["reopened"]))
    later = compliance.cycle_compliance(
        user=secretariat, cycle=world["cycle"], now=world["now"] + dt.timedelta(days=3, hours=1)
    )
    assert rows_by_org(later)[org_id(world["reopened"])].flagged is True


def test_bank_and_other_kabupaten_are_not_listed_as_required(secretariat: Any, world: dict[str, Any]) -> None:
    report = compliance.cycle_compliance(user=secretariat, cycle=world["cycle"], now=world["now"])
    listed = rows_by_org(report)
    assert org_id(world["bank"]) not in listed
    assert org_id(world["elsewhere"]) not in listed
    assert org_id(world["baznas"]) not in listed
    assert set(listed) == {org_id(world[k]) for k in ("silent", "refusing", "proposing", "reopened")}
    assert report.counts() == {
        "required": 4,
        "proposal": 1,
        "refusal": 1,
        "none": 2,
        "flagged": 1,
        "others": 0,
        "overdue": 0,
    }
    # With the other involved partners: the BAZNAS (allocation) shows, not required and never flagged; the
    # bank is involved in nothing and stays out.
    wider = rows_by_org(
        compliance.cycle_compliance(user=secretariat, cycle=world["cycle"], now=world["now"], include_others=True)
    )
    baznas = wider[org_id(world["baznas"])]
    assert (baznas.required, baznas.flagged, baznas.state) == (False, False, compliance.STATE_NONE)
    assert org_id(world["bank"]) not in wider


def test_required_sectors_are_data(secretariat: Any, world: dict[str, Any]) -> None:
    cycle = world["cycle"]
    cycle.required_sectors = [CompanySector.BANKING]
    cycle.save(update_fields=["required_sectors"])
    listed = rows_by_org(compliance.cycle_compliance(user=secretariat, cycle=cycle, now=world["now"]))
    assert set(listed) == {org_id(world["bank"])}
    assert listed[org_id(world["bank"])].flagged is True


def test_the_compliance_reads_a_fixed_number_of_queries(
    secretariat: Any, world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for i in range(6):
        w.company(CompanySector.PLANTATION, name=f"PT Sawit Tambahan {i}")
    with django_assert_max_num_queries(9):
        report = compliance.cycle_compliance(user=secretariat, cycle=world["cycle"], now=world["now"])
    assert report.counts()["flagged"] == 7


def test_overdue_agreed_program_is_listed_with_delivered_vs_eligible(secretariat: Any) -> None:
    cycle = w.open_cycle()
    partner = w.company(CompanySector.PLANTATION)
    households = f.HouseholdFactory.create_batch(4)
    proposal = w.agreed_proposal(
        secretariat=secretariat,
        partner=partner,
        cycle=cycle,
        households=households,
        ineligible=1,
        delivered=1,
        number="PKS/UJI/001",
    )
    on_time = compliance.cycle_compliance(user=secretariat, cycle=cycle)
    assert on_time.overdue == []
    after = timezone.now() + dt.timedelta(days=(cycle.realisation_deadline - timezone.localdate()).days + 1)
    late = compliance.cycle_compliance(user=secretariat, cycle=cycle, now=after)
    assert [r.proposal.pk for r in late.overdue] == [proposal.pk]
    row = late.overdue[0]
    assert (row.eligible_targets, row.delivered_households) == (3, 1)
    assert row.due == proposal.ends_on  # the program's own end came before the cycle's realisation date
    assert row.days_overdue == (timezone.localtime(after).date() - proposal.ends_on).days
    # Declared implemented: no longer overdue.
    services.proposal_transition(actor=partner, proposal=proposal, action="implement")
    assert compliance.cycle_compliance(user=secretariat, cycle=cycle, now=after).overdue == []


def test_a_program_past_its_own_end_is_overdue_before_the_cycle_date(secretariat: Any) -> None:
    cycle = w.open_cycle()
    partner = w.company(CompanySector.MINING)
    proposal = w.agreed_proposal(
        secretariat=secretariat,
        partner=partner,
        cycle=cycle,
        households=f.HouseholdFactory.create_batch(2),
        number="PKS/UJI/002",
    )
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    type(proposal).objects.filter(pk=proposal.pk).update(starts_on=yesterday - dt.timedelta(days=30), ends_on=yesterday)
    row = compliance.cycle_compliance(user=secretariat, cycle=cycle).overdue[0]
    assert (row.days_overdue, row.eligible_targets, row.delivered_households) == (1, 2, 0)


# ------------------------------------------------------------------------------------------------- page


def page(client: Client, user: Any, cycle_id: int, query: str = "") -> Any:
    client.force_login(user)
    return client.get(reverse("csr:compliance", args=[cycle_id]) + query)


def test_page_shows_rows_reason_reminders_and_filter(client: Client, secretariat: Any, world: dict[str, Any]) -> None:
    cycle = world["cycle"]
    Reminder.objects.create(
        cycle=cycle,
        organization=world["silent"].test_organization,
        kind=ReminderKind.DEADLINE,
        step="H-1",
        recipients=["direksi@sawit.example"],
    )
    response = page(client, secretariat, cycle.pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="compliance-row"') == 4
    assert f'data-org="{org_id(world["silent"])}" data-state="belum ada" data-flagged="1"' in html
    assert f'data-org="{org_id(world["refusing"])}" data-state="menolak" data-flagged="0"' in html
    assert REFUSAL_REASON in html
    assert "H-1 ·" in html and "1 penerima" in html
    assert "Bank Daerah Uji" not in html
    assert reverse("csr:summary") in html

    flagged = page(client, secretariat, cycle.pk, "?flagged=1").content.decode()
    assert flagged.count('data-testid="compliance-row"') == 1
    assert "PT Sawit Diam" in flagged and "PT Sawit Menolak" not in flagged

    by_query = client.get(reverse("csr:compliance") + f"?cycle={cycle.pk}")
    assert by_query.status_code == 200 and by_query.context["cycle"].pk == cycle.pk


def test_leadership_sees_counts_only(client: Client, world: dict[str, Any]) -> None:
    leader = f.user_with_role(Role.LEADERSHIP)
    response = page(client, leader, world["cycle"].pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="count-flagged">1<' in html
    assert 'data-testid="compliance-counts-only"' in html
    assert "PT Sawit Diam" not in html and REFUSAL_REASON not in html
    assert 'data-testid="compliance-row"' not in html


@pytest.mark.parametrize("role", [Role.PARTNER, Role.OPD_OFFICER])
def test_partner_and_agency_are_refused(client: Client, world: dict[str, Any], role: str) -> None:
    assert page(client, f.user_with_role(role), world["cycle"].pk).status_code == 403


def test_cycle_of_another_region_is_not_found(client: Client, world: dict[str, Any]) -> None:
    other = f.user_with_role(Role.SECRETARIAT, f.KUTAI_KARTANEGARA)
    f.CsrCycleFactory(region=f.region(f.KUTAI_KARTANEGARA))
    assert page(client, other, world["cycle"].pk).status_code == 404
    client.force_login(other)
    assert client.get(reverse("csr:compliance") + "?cycle=abc").status_code == 404


def test_anonymous_goes_to_login(client: Client, world: dict[str, Any]) -> None:
    response = client.get(reverse("csr:compliance", args=[world["cycle"].pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_region_without_cycles_sees_an_empty_page(client: Client) -> None:
    client.force_login(f.user_with_role(Role.SECRETARIAT, f.KUTAI_KARTANEGARA))
    for name in ("csr:compliance", "csr:summary"):
        response = client.get(reverse(name))
        assert response.status_code == 200 and 'data-testid="no-cycle"' in response.content.decode(), name
    assert client.get(reverse("csr:summary-download", args=["xlsx"])).status_code == 404
