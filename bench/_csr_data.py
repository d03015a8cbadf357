"""Data of the CSR bench on top of the gap bench's registry: one CSR cycle of Kendal, a few hundred partner
companies (every sector, operating areas of 1-3 kecamatan, a partner login each), other partners' proposals
and refusals for the compliance and summary pages. Rows are written with the ORM's ``bulk_create`` and a few
set-based statements; nothing here is timed."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

PARTNER_PREFIX = "bench-csr-"
PARTNER_USER_PREFIX = "bench_csr_u"
PASSWORD = "bench-csr-2026"  # the bench logins (scratch database only)
# The assistance kinds partners are given targets for (the gap bench's catalogue).
KINDS = (
    "pangan",
    "tunai",
    "rtlh",
    "modal-usaha",
    "alat-produksi",
    "pelatihan",
    "kesehatan",
    "pendidikan",
    "sanitasi-air",
)
BIG_KIND = "pangan"
NAMES = (
    "Sinar", "Agro", "Nusantara", "Mandiri", "Jaya", "Sejahtera", "Abadi", "Makmur", "Sentosa", "Lestari",
    "Indah", "Prima", "Utama", "Kencana", "Persada", "Samudra", "Bumi", "Cipta", "Karya", "Mulia",
)  # fmt: skip


@dataclass
class Partners:
    """The bench partners: the big company (a wide operating area) and the others (1-3 kecamatan each)."""

    big_id: int
    other_ids: list[int]
    areas: dict[int, list[str]]  # organization id -> kecamatan codes
    kinds: dict[int, int]  # organization id -> assistance kind id of its allocation
    users: dict[int, int]  # organization id -> partner user id
    sectors: dict[int, str] = field(default_factory=dict)


def reset_csr() -> None:
    """Empty the CSR tables and remove what earlier runs derived from them (programs of agreed proposals and
    their deliveries), so a ``--reuse-db`` run starts from the same state."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'csr\\_%%' ORDER BY 1"
        )
        tables = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "DELETE FROM programs_intervention "
            "WHERE program_id IN (SELECT id FROM programs_program WHERE code LIKE 'csr-%%')"
        )
        if tables:
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        cursor.execute("DELETE FROM programs_program WHERE code LIKE 'csr-%%'")


def kecamatan_of(kab: str) -> list[str]:
    from tkpk.models import Region

    return list(Region.objects.filter(level=3, code__startswith=kab).order_by("code").values_list("code", flat=True))


def candidates(year: int, kab: str) -> dict[str, list[int]]:
    """Desil 1-2 households without any program this year (the gap engine's facts), per kecamatan."""
    from django.db import connection

    found: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kecamatan_code, household_id FROM reports_gaphouseholdfact WHERE year = %s "
            "AND kabupaten_code = %s AND desil IN (1, 2) AND NOT covered ORDER BY household_id",
            [year, kab],
        )
        for kec, household_id in cursor.fetchall():
            found.setdefault(kec, []).append(household_id)
    return found


def ensure_cycle(year: int, kab: str, actor: Any) -> Any:
    from django.utils import timezone

    from csr.models import CsrCycle, CycleStatus

    now = timezone.now()
    return CsrCycle.objects.create(
        region_id=kab,
        year=year,
        name=f"Musrenbang CSR {year}",
        proposal_deadline=now + dt.timedelta(days=21),
        verification_starts=(now + dt.timedelta(days=22)).date(),
        verification_ends=(now + dt.timedelta(days=45)).date(),
        realisation_deadline=(now + dt.timedelta(days=200)).date(),
        status=CycleStatus.OPEN,
        created_by=actor,
    )


def ensure_partners(*, kab: str, count: int, big_area: list[str], seed: int) -> Partners:
    """``count`` companies plus the big one (created once, reused), their operating areas (reset each run),
    a contact and a partner login each."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from csr.models import CompanyContact
    from programs.models import AssistanceKind
    from tkpk.models import CompanySector, Membership, Organization, OrganizationKind
    from tkpk.scoping import Role

    rng = random.Random(seed + 70)
    sectors = [s.value for s in CompanySector]
    kecamatan = kecamatan_of(kab)
    wanted = [(f"{PARTNER_PREFIX}big", "PT Perkebunan Nusantara Kendal (bench)", CompanySector.PLANTATION.value)]
    for i in range(1, count + 1):
        name = f"PT {NAMES[i % len(NAMES)]} {NAMES[(i * 7) % len(NAMES)]} {i:03d}"
        wanted.append((f"{PARTNER_PREFIX}{i:03d}", name, sectors[i % len(sectors)]))
    existing = set(
        Organization.objects.filter(short_code__startswith=PARTNER_PREFIX).values_list("short_code", flat=True)
    )
    Organization.objects.bulk_create(
        [
            Organization(kind=OrganizationKind.COMPANY, name=name, short_code=code, sector=sector, region_id=kab)
            for code, name, sector in wanted
            if code not in existing
        ]
    )
    orgs = dict(Organization.objects.filter(short_code__startswith=PARTNER_PREFIX).values_list("short_code", "pk"))
    big_id = orgs[f"{PARTNER_PREFIX}big"]
    other_ids = [orgs[code] for code, _n, _s in wanted[1:]]
    areas = {big_id: list(big_area)}
    for org_id in other_ids:
        areas[org_id] = rng.sample(kecamatan, rng.choice((1, 2, 2, 3)))
    through = Organization.area.through
    through.objects.filter(organization_id__in=list(areas)).delete()
    through.objects.bulk_create(
        [through(organization_id=org_id, region_id=code) for org_id, codes in areas.items() for code in codes]
    )
    kind_ids = dict(AssistanceKind.objects.filter(code__in=KINDS).values_list("code", "pk"))
    kinds = {big_id: kind_ids[BIG_KIND]}
    for i, org_id in enumerate(other_ids):
        kinds[org_id] = kind_ids[KINDS[i % len(KINDS)]]

    user_model = get_user_model()
    usernames = {org_id: f"{PARTNER_USER_PREFIX}{org_id}" for org_id in areas}
    have = set(user_model._default_manager.filter(username__in=usernames.values()).values_list("username", flat=True))
    password = make_password(PASSWORD)
    user_model._default_manager.bulk_create(
        [
            user_model(username=name, password=password, first_name="Mitra", last_name=str(org_id), is_active=True)
            for org_id, name in usernames.items()
            if name not in have
        ]
    )
    user_ids = dict(user_model._default_manager.filter(username__in=usernames.values()).values_list("username", "pk"))
    users = {org_id: user_ids[name] for org_id, name in usernames.items()}
    Membership.objects.bulk_create(
        [Membership(user_id=users[org_id], organization_id=org_id, role=Role.PARTNER) for org_id in areas],
        ignore_conflicts=True,
    )
    CompanyContact.objects.bulk_create(
        [
            CompanyContact(
                organization_id=org_id,
                name=f"Manajer CSR {org_id}",
                position="Manajer CSR",
                phone="0294-000000",
                email=f"csr{org_id}@example.com",
                is_primary=True,
            )
            for org_id in areas
        ]
    )
    sector_of = {orgs[code]: sector for code, _n, sector in wanted}
    return Partners(big_id=big_id, other_ids=other_ids, areas=areas, kinds=kinds, users=users, sectors=sector_of)


def others_proposals(*, cycle: Any, partners: Partners, seed: int) -> dict[str, int]:
    """For the compliance, review and summary pages: about 45 % of the other partners have a proposal (draft,
    submitted, verified or agreed) on their allocation, 10 % a refusal, the rest nothing. ORM bulk rows."""
    from django.utils import timezone

    from csr.models import Allocation, Proposal, ProposalStatus, ProposalTarget, ProposalTransition, Refusal
    from programs.models import AssistanceKind, ProgramCluster, ProgramStrategy

    rng = random.Random(seed + 71)
    now = timezone.now()
    cluster = {c.code: c.pk for c in ProgramCluster.objects.all()}
    strategy = {s.code: s.pk for s in ProgramStrategy.objects.all()}
    kind_code = dict(AssistanceKind.objects.values_list("pk", "code"))
    shapes = {  # kind -> (cluster, strategy): as in the gap bench's catalogue
        "pangan": ("klaster-1", "kurangi-beban"),
        "tunai": ("klaster-1", "kurangi-beban"),
        "kesehatan": ("klaster-1", "kurangi-beban"),
        "pendidikan": ("klaster-1", "kurangi-beban"),
        "rtlh": ("klaster-3", "kurangi-kantong-kemiskinan"),
        "sanitasi-air": ("klaster-3", "kurangi-kantong-kemiskinan"),
    }
    statuses = [ProposalStatus.DRAFT, ProposalStatus.SUBMITTED, ProposalStatus.VERIFIED, ProposalStatus.AGREED]
    proposals: list[Any] = []
    refusals: list[Any] = []
    for org_id in partners.other_ids:
        r = rng.random()
        if r < 0.45:
            code = kind_code[partners.kinds[org_id]]
            c, s = shapes.get(code, ("klaster-2", "tingkatkan-pendapatan"))
            status = rng.choice(statuses)
            proposals.append(
                Proposal(
                    organization_id=org_id,
                    cycle=cycle,
                    title=f"Program CSR {code} mitra {org_id}",
                    description="Usulan bench",
                    assistance_kind_id=partners.kinds[org_id],
                    cluster_id=cluster[c],
                    strategy_id=strategy[s],
                    budget=rng.randrange(50, 2000) * 1_000_000,
                    starts_on=dt.date(cycle.year, 7, 1),
                    ends_on=dt.date(cycle.year, 12, 31),
                    contact_name=f"Manajer CSR {org_id}",
                    status=status,
                    submitted_at=None if status == ProposalStatus.DRAFT else now,
                    created_by_id=partners.users[org_id],
                )
            )
        elif r < 0.55:
            refusals.append(
                Refusal(
                    organization_id=org_id,
                    cycle=cycle,
                    reason="Anggaran CSR tahun ini sudah terserap program lain di wilayah operasi perusahaan.",
                    signatory_name=f"Direktur {org_id}",
                    signatory_position="Direktur Utama",
                    letter_number=f"TKPK-CSR/{cycle.year}/{cycle.pk}/BENCH-{org_id}",
                    submitted_by_id=partners.users[org_id],
                )
            )
    Proposal.objects.bulk_create(proposals)
    Refusal.objects.bulk_create(refusals)
    by_org = {p.organization_id: p for p in proposals}
    targets = []
    allocated = Allocation.objects.filter(cycle=cycle, organization_id__in=list(by_org)).values_list(
        "organization_id", "household_id", "pk"
    )
    verified = (ProposalStatus.VERIFIED, ProposalStatus.AGREED)
    for org_id, household_id, allocation_id in allocated:
        proposal = by_org[org_id]
        targets.append(
            ProposalTarget(
                proposal=proposal,
                household_id=household_id,
                allocation_id=allocation_id,
                verification="eligible" if proposal.status in verified else "pending",
                verified_at=now if proposal.status in verified else None,
            )
        )
    ProposalTarget.objects.bulk_create(targets, batch_size=5000)
    transitions = []
    path = {
        "draft": [],
        "submitted": ["submit"],
        "verified": ["submit", "verify"],
        "agreed": ["submit", "verify", "agree"],
    }
    steps = {"submit": ("draft", "submitted"), "verify": ("submitted", "verified"), "agree": ("verified", "agreed")}
    for proposal in proposals:
        transitions.append(
            ProposalTransition(proposal=proposal, action="create", from_status="draft", to_status="draft", at=now)
        )
        for action in path[str(proposal.status)]:
            a, b = steps[action]
            transitions.append(ProposalTransition(proposal=proposal, action=action, from_status=a, to_status=b, at=now))
    ProposalTransition.objects.bulk_create(transitions)
    return {"proposals": len(proposals), "refusals": len(refusals), "targets": len(targets)}


def deliveries(*, proposal_id: int, share: float) -> int:
    """Deliveries (interventions, channel CSR) of the agreed proposal's program to a share of its eligible
    targets: one set-based INSERT."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO programs_intervention (
                delivered_on, period_year, once_per_period, value, quantity, status, cancel_reason, note, channel,
                evidence, province_code, kabupaten_code, kecamatan_code, desa_id, created_at, updated_at,
                household_id, organization_id, program_id)
            SELECT make_date(p.year::int, 9, (1 + t.id %% 28)::int), p.year, true,
                   p.budget / GREATEST(p.target_households, 1), 1, 'delivered', '', '', 'csr', '',
                   h.province_code, h.kabupaten_code, h.kecamatan_code, h.desa_id, now(), now(),
                   h.id, p.organization_id, p.id
            FROM csr_proposaltarget t
            JOIN csr_proposal pr ON pr.id = t.proposal_id
            JOIN programs_program p ON p.id = pr.program_id
            JOIN households_household h ON h.id = t.household_id
            WHERE t.proposal_id = %s AND t.verification = 'eligible' AND (t.id %% 100) < %s
            """,
            [proposal_id, int(share * 100)],
        )
        return int(cursor.rowcount)
