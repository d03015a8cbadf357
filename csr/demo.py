"""Demo data of the CSR portal for the demo kabupaten (called by ``seed_demo`` after the households and programs).

A cycle "Musrenbang CSR <year>" whose deadline is ~10 days ahead; four partners with a contact person and an
operating area (the demo partner, a plantation company; a mining company; a rural bank; BAZNAS); the demo
partner gets desil-1 households of its area not yet reached this year as allocations; it has one proposal in each
state (draft, submitted, verified, agreed with its agreement PDF and a few deliveries) and the mining company
sent a refusal letter. Everything goes through ``csr.services`` (the same rules as the pages).

Idempotent: each step is skipped when its rows exist, so a second run creates nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from csr import services
from csr.models import (
    CompanyContact,
    CsrCycle,
    CycleStatus,
    Proposal,
    ProposalStatus,
    Refusal,
    VerificationResult,
)
from households.choices import HouseholdStatus
from households.models import Household
from programs.models import AssistanceKind, Intervention, InterventionStatus, ProgramCluster, ProgramStrategy
from tkpk.exceptions import DomainError
from tkpk.models import CompanySector, Membership, Organization, Region, RegionLevel
from tkpk.scoping import Role

DEADLINE_DAYS = 10
ALLOCATION_COUNT = 40
KIND_CODE = "pangan"
# (organization key of households.demo, sector it gets, contact name, position)
PARTNERS: tuple[tuple[str, str, str, str], ...] = (
    ("kebun-lestari", CompanySector.PLANTATION, "Agus Prasetyo (Demo)", "Manajer CSR"),
    ("tambang-batu", CompanySector.MINING, "Yusuf Hidayat (Demo)", "Kepala Humas dan TJSL"),
    ("bpr-artha", CompanySector.BANKING, "Sri Wahyuni (Demo)", "Pemimpin Cabang"),
    ("baznas", "", "Ahmad Fauzi (Demo)", "Wakil Ketua Bidang Pendistribusian"),
)
PARTNER_KEY = "kebun-lestari"
REFUSING_KEY = "tambang-batu"
REFUSING_USER = "demo_mitra_tambang"
# (title, status it ends in, number of targets)
PROPOSALS: tuple[tuple[str, str, int], ...] = (
    ("Paket pangan bergizi keluarga desil 1 (Demo)", ProposalStatus.DRAFT, 5),
    ("Bantuan pangan lansia tunggal (Demo)", ProposalStatus.SUBMITTED, 5),
    ("Lumbung pangan keluarga (Demo)", ProposalStatus.VERIFIED, 5),
    ("Sembako bulanan keluarga miskin ekstrem (Demo)", ProposalStatus.AGREED, 6),
)
DELIVERIES = 3


@dataclass
class DemoCsrResult:
    cycle_name: str = ""
    partners: int = 0
    contacts_created: int = 0
    allocations_created: int = 0
    allocations_total: int = 0
    proposals_created: int = 0
    deliveries_created: int = 0
    refusals_created: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (username, organization, password)


def _organization(region: Region, key: str) -> Organization:
    org = Organization.objects.filter(short_code=f"{region.code}-{key}").first()
    if org is None:
        raise DomainError(f"Organisasi demo {key} belum ada: jalankan seed_demo lebih dahulu.", code="demo_missing")
    return org


def _user(username: str) -> Any:
    user = get_user_model()._default_manager.filter(username=username).first()
    if user is None:
        raise DomainError(f"Akun demo {username} belum ada: jalankan seed_demo lebih dahulu.", code="demo_missing")
    return user


def _ensure_partners(region: Region, result: DemoCsrResult) -> dict[str, Organization]:
    kecamatan = list(Region.objects.filter(level=RegionLevel.KECAMATAN, parent=region).order_by("code"))
    partners: dict[str, Organization] = {}
    for i, (key, sector, contact, position) in enumerate(PARTNERS):
        org = _organization(region, key)
        if sector and org.sector != sector:
            org.sector = sector
            org.save(update_fields=["sector"])
        if kecamatan and not org.area.exists():
            org.area.set([kecamatan[(i * 5 + k) % len(kecamatan)] for k in range(2)])
        _contact, created = CompanyContact.objects.get_or_create(
            organization=org,
            name=contact,
            defaults={
                "position": position,
                "phone": f"0812-0000-{100 + i:04d}",
                "email": f"csr-{key}@demo.tkpk.invalid",
                "is_primary": True,
            },
        )
        result.contacts_created += int(created)
        partners[key] = org
    result.partners = len(partners)
    return partners


def _ensure_refusing_user(org: Organization) -> Any:
    user, created = get_user_model()._default_manager.get_or_create(
        username=REFUSING_USER,
        defaults={"first_name": "Yusuf", "last_name": "Hidayat (Demo)", "email": f"{REFUSING_USER}@demo.tkpk.invalid"},
    )
    if created:
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
    Membership.objects.update_or_create(user=user, organization=org, defaults={"role": Role.PARTNER})
    return user


def _ensure_cycle(region: Region, secretariat: Any) -> CsrCycle:
    year = timezone.localdate().year
    existing = CsrCycle.objects.filter(region=region, year=year, name=f"Musrenbang CSR {year}").first()
    if existing is not None:
        return existing
    today = timezone.localdate()
    deadline = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=DEADLINE_DAYS), dt.time(16, 0)))
    return services.cycle_create(
        actor=secretariat,
        region=region,
        year=year,
        name=f"Musrenbang CSR {year}",
        proposal_deadline=deadline,
        verification_starts=today + dt.timedelta(days=DEADLINE_DAYS + 1),
        verification_ends=today + dt.timedelta(days=DEADLINE_DAYS + 21),
        realisation_deadline=today + dt.timedelta(days=DEADLINE_DAYS + 120),
        status=CycleStatus.OPEN,
        note="Siklus DEMO: perusahaan, usulan dan surat fiktif.",
    )


def _uncovered_desil1(partner: Organization, year: int) -> list[int]:
    """Desil-1 households of the partner's operating area that no program reached this year (poorest first)."""
    reached = Intervention.objects.filter(
        household=OuterRef("pk"), period_year=year, status=InterventionStatus.DELIVERED
    )
    qs = (
        Household.objects.filter(services.operating_area_q(partner), desil=1, status=HouseholdStatus.ACTIVE)
        .exclude(Exists(reached))
        .order_by("id")
    )
    return list(qs.values_list("id", flat=True)[:ALLOCATION_COUNT])


def _proposal(
    *,
    title: str,
    status: str,
    household_ids: list[int],
    partner: Organization,
    cycle: CsrCycle,
    company_user: Any,
    secretariat: Any,
    kind: AssistanceKind,
) -> int:
    """One demo proposal walked to ``status``; returns the deliveries recorded."""
    today = timezone.localdate()
    proposal = services.proposal_create(
        actor=company_user,
        organization=partner,
        cycle=cycle,
        household_ids=household_ids,
        title=title,
        description="Program DEMO untuk keluarga sasaran hasil alokasi TKPK.",
        assistance_kind=kind,
        cluster=ProgramCluster.objects.get(code="klaster-1"),
        strategy=ProgramStrategy.objects.get(code="kurangi-beban"),
        budget=Decimal(25_000_000 + 5_000_000 * len(household_ids)),
        # The agreed one is already under way (its deliveries are dated today); the others start after verification.
        starts_on=today if status == ProposalStatus.AGREED else today + dt.timedelta(days=DEADLINE_DAYS + 30),
        ends_on=today + dt.timedelta(days=DEADLINE_DAYS + 120),
        contact_name="Agus Prasetyo (Demo)",
        contact_phone="0812-0000-0100",
    )
    if status == ProposalStatus.DRAFT:
        return 0
    services.proposal_transition(actor=company_user, proposal=proposal, action="submit")
    if status == ProposalStatus.SUBMITTED:
        return 0
    targets = list(proposal.targets.order_by("id"))
    for index, target in enumerate(targets):
        last = index == len(targets) - 1 and status == ProposalStatus.AGREED
        result = VerificationResult.MOVED if last else VerificationResult.ELIGIBLE
        note = "Pindah ke luar kabupaten (demo)" if last else ""
        services.target_verify(actor=secretariat, target=target, result=result, note=note)
    services.proposal_transition(actor=secretariat, proposal=proposal, action="verify")
    if status == ProposalStatus.VERIFIED:
        return 0
    proposal = services.proposal_transition(
        actor=secretariat,
        proposal=proposal,
        action="agree",
        number=f"PKS/{cycle.year}/CSR-{proposal.pk:03d}/DEMO",
        signed_on=today,
        place="Kantor Bappeda",
        government_signatory="Kepala Bappeda (Demo)",
        company_signatory="Direktur Utama (Demo)",
    )
    eligible = proposal.targets.filter(verification=VerificationResult.ELIGIBLE).select_related("household")
    delivered = 0
    for target in eligible.order_by("id")[:DELIVERIES]:
        assert target.household is not None
        services.delivery_record(
            actor=company_user,
            proposal=proposal,
            household=target.household,
            delivered_on=today,
            value=Decimal(350_000),
            note="Paket sembako bulan pertama (demo)",
        )
        delivered += 1
    return delivered


@transaction.atomic
def demo_csr_seed(*, region_code: str) -> DemoCsrResult:
    """The CSR demo of one kabupaten/kota (needs ``households.demo.demo_seed`` first). Idempotent."""
    code = region_code.replace(".", "").strip()
    region = Region.objects.filter(code=code, level=RegionLevel.KABUPATEN).first()
    if region is None:
        raise DomainError(f"Kabupaten/kota {region_code} tidak ditemukan.", code="unknown_region")
    result = DemoCsrResult()
    secretariat, company_user = _user("demo_sekretariat"), _user("demo_mitra")
    partners = _ensure_partners(region, result)
    partner = partners[PARTNER_KEY]
    cycle = _ensure_cycle(region, secretariat)
    result.cycle_name = cycle.name
    kind = AssistanceKind.objects.get(code=KIND_CODE)

    allocated = cycle.allocations.filter(organization=partner).active()
    if not allocated.exists():
        created = services.allocations_create(
            actor=secretariat,
            cycle=cycle,
            organization=partner,
            assistance_kind=kind,
            household_ids=_uncovered_desil1(partner, cycle.year),
            source="gap_list",
            note="Data demo: desil 1 belum terjangkau program tahun ini",
        )
        result.allocations_created = created.created

    if not Proposal.objects.filter(organization=partner, cycle=cycle).exists():
        pool = list(allocated.order_by("household_id").values_list("household_id", flat=True))
        start = 0
        for title, status, count in PROPOSALS:
            household_ids = pool[start : start + count]
            start += count
            if len(household_ids) < count:
                break
            result.deliveries_created += _proposal(
                title=title,
                status=status,
                household_ids=household_ids,
                partner=partner,
                cycle=cycle,
                company_user=company_user,
                secretariat=secretariat,
                kind=kind,
            )
            result.proposals_created += 1

    refusing = partners[REFUSING_KEY]
    refusing_user = _ensure_refusing_user(refusing)
    result.logins.append((REFUSING_USER, refusing.name, settings.DEMO_PASSWORD))
    if not Refusal.objects.filter(organization=refusing, cycle=cycle).exists():
        services.refusal_submit(
            actor=refusing_user,
            organization=refusing,
            cycle=cycle,
            reason=(
                "Anggaran TJSL perusahaan tahun ini sudah terikat pada program pemulihan lahan bekas tambang "
                "sesuai dokumen AMDAL; perusahaan akan berpartisipasi pada siklus berikutnya. (Demo)"
            ),
            signatory_name="Ir. Yusuf Hidayat (Demo)",
            signatory_position="Direktur Operasional",
        )
        result.refusals_created += 1
    result.allocations_total = allocated.count()  # active: a target found moved went back to the pool
    return result
