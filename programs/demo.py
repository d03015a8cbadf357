"""Demo programs and interventions for the demo region (``manage.py seed_demo`` calls ``demo_programs_seed``).

Programs of the demo organizations (Dinas Sosial, Disperindagkop, Disnakertrans, Perkim, Dinkes, a CSR
company, BAZNAS and the regional bank) for the previous and the current year, and their deliveries to the
demo households: mostly desil 1-2, some households in three business-capital programs at once (convergence),
a few cancelled with a reason (some of them logged again), later tranches and not-yet-delivered records
planned. Delivered dates are never after ``today``.

Everything random comes from one ``random.Random(seed)`` and the demo households in id order, so the same
seed on the same households gives the same programs and deliveries. Interventions are written set-based
(COPY in chunks on PostgreSQL, ``bulk_create`` in batches on SQLite); ``Intervention.save()`` is bypassed, so the
denormalised columns (period year, once-per-period flag, organization, region codes) are filled here exactly as
``save()`` would fill them.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone

from households import choices
from households.demo import _CopyTable as CopyTable
from households.models import Household, Person
from programs.models import (
    AssistanceKind,
    EntryChannel,
    FundingSource,
    Intervention,
    InterventionStatus,
    OutsideRegionPolicy,
    Program,
    ProgramCluster,
    ProgramStrategy,
)
from programs.realisation import program_realisation_refresh
from tkpk.exceptions import DomainError
from tkpk.history import history_context
from tkpk.identifiers import normalize_region_code
from tkpk.models import Organization, OrganizationKind, Region, RegionLevel

BATCH_SIZE = 2000  # bulk_create batch (SQLite)
COPY_CHUNK = 20_000  # rows per COPY (PostgreSQL)
# Intervention columns written by the demo, in the builder's tuple order; the others take their defaults.
COLUMNS: tuple[str, ...] = (
    "program_id", "household_id", "delivered_on", "period_year", "once_per_period", "organization_id",
    "province_code", "kabupaten_code", "kecamatan_code", "desa_id", "value", "quantity", "status", "cancel_reason",
    "note", "channel", "entered_by_id",
)  # fmt: skip
CANCEL_SHARE = 0.02  # of each program's records
RELOG_SHARE = 0.35  # of the cancelled ones of a once-per-year program: logged again later (correct record)
PLANNED_SHARE = 0.03  # of a current-year once-per-year program's households not delivered yet
OVERLAP_SHARE = 0.004  # of all families: in every business-capital program of the current year
POOR_SHARE = 0.85  # of a program's households from desil 1-2 (when the program has no desil limit)
ELDERLY_AGE = 65

CANCEL_REASONS: tuple[str, ...] = (
    "Penerima meninggal dunia sebelum penyaluran.",
    "Keluarga pindah domisili ke luar kabupaten.",
    "Hasil verifikasi lapangan: keluarga sudah mampu.",
    "Keluarga menolak bantuan.",
    "Data ganda: sudah menerima bantuan sejenis dari program lain.",
    "Salah input tanggal penyaluran; dicatat ulang.",
)
RELOG_REASON = "Salah input tanggal penyaluran; dicatat ulang."


@dataclass(frozen=True)
class _Spec:
    key: str  # program code (unique per year); the region code is appended if another region uses it
    org: str  # organization key as created by households.demo (short_code = "<region>-<key>")
    name: str
    cluster: str
    strategy: str
    kind: str
    funding: str
    unit_value: int
    share: float  # of all demo families
    pool: str = "poor"  # poor | elderly | stunting | unfit_house | productive
    once_per_year: bool = True
    max_desil: int | None = None
    tranches: tuple[int, ...] = ()  # months of the deliveries of a recurring program
    start_month: int = 1
    target: str = ""  # "" = whole region | pockets = four kecamatan | company_area = the organization's area
    refuse_outside: bool = False
    value_range: tuple[int, int] | None = None  # per-household value drawn in steps of 500,000
    years: str = "both"  # both | current
    description: str = ""
    eligibility: str = ""
    note: str = ""


_SPECS: tuple[_Spec, ...] = (
    _Spec(
        "dinsos-bpd", "dinsos", "Bantuan Pangan Daerah bagi Keluarga Miskin Ekstrem", "klaster-1", "kurangi-beban",
        "pangan", FundingSource.APBD, 600_000, 0.05, max_desil=1, once_per_year=False, tranches=(3, 6, 9, 12),
        description="Paket beras, telur dan minyak goreng per triwulan bagi keluarga desil 1.",
        eligibility="Desil 1 P3KE/DTSEN, belum menerima BPNT.", note="Penyaluran tahap {n}",
    ),
    _Spec(
        "dinsos-lansia", "dinsos", "Santunan Lanjut Usia Terlantar", "klaster-1", "kurangi-beban", "tunai",
        FundingSource.APBD, 1_200_000, 0.015, pool="elderly", max_desil=2, start_month=2,
        description="Santunan tunai sekali setahun bagi keluarga lansia tanpa anggota usia produktif.",
        eligibility="Kepala keluarga berusia 65 tahun ke atas, desil 1-2.", note="Disalurkan melalui PT Pos",
    ),
    _Spec(
        "perkim-rtlh", "disperkim", "Rehabilitasi Rumah Tidak Layak Huni (RTLH)", "klaster-3",
        "kurangi-kantong-kemiskinan", "rtlh", FundingSource.APBD, 17_500_000, 0.008, pool="unfit_house",
        max_desil=2, start_month=3, target="pockets", refuse_outside=True, value_range=(15_000_000, 20_000_000),
        description="Perbaikan atap, lantai dan dinding rumah tidak layak huni di kecamatan kantong kemiskinan.",
        eligibility="Rumah milik sendiri, lantai tanah atau dinding bambu.", note="Swakelola kelompok masyarakat",
    ),
    _Spec(
        "dagkop-modal", "disperindagkop", "Bantuan Modal Usaha Mikro bagi Keluarga Miskin", "klaster-2",
        "tingkatkan-pendapatan", "modal-usaha", FundingSource.APBD, 2_500_000, 0.02, pool="productive",
        start_month=2, description="Bantuan modal kerja dan pendampingan usaha mikro.",
        eligibility="Memiliki usaha mikro atau anggota usia produktif.", note="Paket modal usaha",
    ),
    _Spec(
        "naker-pbk", "disnakertrans", "Pelatihan Berbasis Kompetensi bagi Pencari Kerja", "klaster-2",
        "tingkatkan-pendapatan", "pelatihan", FundingSource.APBD, 3_500_000, 0.012, pool="productive",
        start_month=4, description="Pelatihan menjahit, las, tata boga dan otomotif di BLK.",
        note="Peserta angkatan BLK",
    ),
    _Spec(
        "dinkes-pbi", "dinkes", "Jaminan Kesehatan Daerah (PBI APBD)", "klaster-1", "kurangi-beban",
        "jaminan-sosial", FundingSource.APBD, 504_000, 0.06, max_desil=2,
        description="Iuran JKN kelas 3 dibayar pemerintah daerah selama setahun.", note="Didaftarkan ke BPJS",
    ),
    _Spec(
        "dinkes-pmt", "dinkes", "Pemberian Makanan Tambahan (PMT) Balita Berisiko Stunting", "klaster-1",
        "kurangi-beban", "kesehatan", FundingSource.APBD, 450_000, 0.01, pool="stunting", once_per_year=False,
        tranches=(5, 8, 11), description="PMT lokal 90 hari melalui posyandu.", note="PMT siklus {n}",
    ),
    _Spec(
        "csr-jamban", "kebun-lestari", "Jamban Sehat dan Air Bersih (CSR)", "klaster-3",
        "kurangi-kantong-kemiskinan", "sanitasi-air", FundingSource.CSR, 4_000_000, 0.006, target="company_area",
        start_month=3, description="Pembangunan jamban sehat dan sambungan air bersih di wilayah operasional.",
        eligibility="Keluarga tanpa jamban sendiri di desa sekitar kebun.", note="Program TJSL perusahaan",
    ),
    _Spec(
        "baznas-zakat-produktif", "baznas", "Zakat Produktif bagi Mustahik Usaha Mikro", "klaster-2",
        "tingkatkan-pendapatan", "modal-usaha", FundingSource.BAZNAS, 1_500_000, 0.01, pool="productive",
        max_desil=2, start_month=2, description="Modal usaha bergulir dan pendampingan mustahik.",
        note="Penyaluran zakat produktif",
    ),
    _Spec(
        "bank-modal-umkm", "bank", "Modal Usaha Keluarga Prasejahtera (CSR Bank)", "klaster-2",
        "tingkatkan-pendapatan", "modal-usaha", FundingSource.CSR, 3_000_000, 0.006, pool="productive",
        start_month=3, years="current", description="Hibah modal usaha dan literasi keuangan dari CSR bank daerah.",
        note="Hibah modal CSR",
    ),
)  # fmt: skip
_CONVERGENCE_KIND = "modal-usaha"


@dataclass
class DemoProgramsResult:
    kept_existing: bool = False
    programs_deleted: int = 0
    interventions_deleted: int = 0
    programs_created: int = 0
    interventions_created: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    programs_total: int = 0
    interventions_total: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class _Family:
    pk: int
    desa: str
    desil: int | None


@dataclass
class _Pools:
    families: list[_Family]
    elderly: set[int]
    stunting: set[int]
    unfit_house: set[int]
    productive: set[int]

    def of(self, pool: str) -> list[_Family]:
        members: set[int] | None = getattr(self, pool) if pool != "poor" else None
        return [f for f in self.families if members is None or f.pk in members]


def _load_families(region_code: str, today: dt.date) -> _Pools:
    demo = Household.objects.filter(is_demo=True, kabupaten_code=region_code, status=choices.HouseholdStatus.ACTIVE)
    families = [
        _Family(pk, str(desa), desil) for pk, desa, desil in demo.order_by("id").values_list("id", "desa_id", "desil")
    ]
    pks = demo.values("pk")
    heads = Person.objects.filter(household__in=pks, relationship=choices.Relationship.HEAD)
    elderly_born = dt.date(today.year - ELDERLY_AGE, today.month, min(today.day, 28))
    productive_from = dt.date(today.year - 60, 1, 1)
    productive_to = dt.date(today.year - 18, 12, 31)
    return _Pools(
        families=families,
        elderly=set(heads.filter(birth_date__lte=elderly_born).values_list("household_id", flat=True)),
        stunting=set(demo.filter(stunting_risk=True).values_list("id", flat=True)),
        unfit_house=set(
            demo.filter(
                models.Q(floor_type=choices.FloorType.EARTH)
                | models.Q(wall_type__in=[choices.WallType.WOVEN_BAMBOO, choices.WallType.BAMBOO])
            ).values_list("id", flat=True)
        ),
        productive=set(
            Person.objects.filter(household__in=pks, birth_date__range=(productive_from, productive_to)).values_list(
                "household_id", flat=True
            )
        ),
    )


def _pick(rng: random.Random, candidates: Sequence[_Family], count: int, *, max_desil: int | None) -> list[_Family]:
    """``count`` distinct families: within the desil limit, else mostly (85%) from desil 1-2."""
    if max_desil is not None:
        eligible = [f for f in candidates if f.desil is not None and f.desil <= max_desil]
        return rng.sample(eligible, min(count, len(eligible)))
    poor = [f for f in candidates if f.desil in (1, 2)]
    rest = [f for f in candidates if f.desil not in (1, 2)]
    from_rest = min(len(rest), count - min(len(poor), round(count * POOR_SHARE)))
    from_poor = min(len(poor), count - from_rest)
    return rng.sample(poor, from_poor) + rng.sample(rest, from_rest)


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


class _Builder:
    """Turns specs into Program rows and unsaved Intervention objects (denormalised columns filled)."""

    def __init__(self, *, rng: random.Random, today: dt.date, users: dict[str, Any]) -> None:
        self.rng = rng
        self.today = today
        self.users = users
        self.items: list[tuple[Any, ...]] = []  # values in COLUMNS order

    def intervention(
        self,
        program: Program,
        family: _Family,
        delivered_on: dt.date,
        *,
        status: str = InterventionStatus.DELIVERED,
        value: int,
        note: str,
        cancel_reason: str = "",
        channel: str,
        entered_by: Any,
    ) -> None:
        desa = family.desa
        self.items.append((
            program.pk, family.pk, delivered_on,
            # What Intervention.save() would set: year, once-per-period flag, organization, region codes.
            delivered_on.year, program.once_per_year, program.organization_id, desa[:2], desa[:4], desa[:6], desa,
            Decimal(value), Decimal(1), status, cancel_reason, note, channel, entered_by.pk if entered_by else None,
        ))  # fmt: skip

    def channel(self, program: Program) -> str:
        if program.funding_source == FundingSource.CSR and program.organization.kind == OrganizationKind.COMPANY:
            return EntryChannel.CSR
        return EntryChannel.SPREADSHEET if self.rng.random() < 0.6 else EntryChannel.FORM

    def value(self, spec: _Spec) -> int:
        if spec.value_range is None:
            return spec.unit_value
        low, high = spec.value_range
        return low + 500_000 * self.rng.randint(0, (high - low) // 500_000)

    def once(self, spec: _Spec, program: Program, families: list[_Family], entered_by: Any) -> None:
        rng, today = self.rng, self.today
        last_delivery = min(program.ends_on, today)
        planned_from = max(program.starts_on, today + dt.timedelta(days=1))
        first_cancel = True
        for family in families:
            note = spec.note
            value = self.value(spec)
            channel = self.channel(program)
            can_deliver = program.starts_on <= last_delivery
            can_plan = planned_from <= program.ends_on
            if can_plan and (not can_deliver or rng.random() < PLANNED_SHARE):
                self.intervention(
                    program, family, _date_between(rng, planned_from, program.ends_on),
                    status=InterventionStatus.PLANNED, value=value, note=note, channel=channel, entered_by=entered_by,
                )  # fmt: skip
                continue
            if not can_deliver:
                continue
            day = _date_between(rng, program.starts_on, last_delivery)
            if rng.random() < CANCEL_SHARE:
                # The program's first cancellation is always logged again (so every demo shows that case).
                relog = (first_cancel or rng.random() < RELOG_SHARE) and day < last_delivery
                first_cancel = False
                reason = RELOG_REASON if relog else rng.choice(CANCEL_REASONS)
                self.intervention(
                    program, family, day, status=InterventionStatus.CANCELLED, value=value, note=note,
                    cancel_reason=reason, channel=channel, entered_by=entered_by,
                )  # fmt: skip
                if not relog:
                    continue
                day = _date_between(rng, day + dt.timedelta(days=1), last_delivery)
            self.intervention(program, family, day, value=value, note=note, channel=channel, entered_by=entered_by)

    def recurring(self, spec: _Spec, program: Program, families: list[_Family], entered_by: Any) -> None:
        rng, today = self.rng, self.today
        for family in families:
            channel = self.channel(program)
            stopped = False
            for number, month in enumerate(spec.tranches, start=1):
                day = dt.date(program.year, month, 5) + dt.timedelta(days=rng.randint(0, 20))
                if not (program.starts_on <= day <= program.ends_on) or stopped:
                    continue
                note = spec.note.format(n=number)
                if day > today:
                    self.intervention(
                        program, family, day, status=InterventionStatus.PLANNED, value=spec.unit_value, note=note,
                        channel=channel, entered_by=entered_by,
                    )  # fmt: skip
                elif rng.random() < CANCEL_SHARE:
                    # The family left the program: this tranche cancelled, no later ones.
                    self.intervention(
                        program, family, day, status=InterventionStatus.CANCELLED, value=spec.unit_value, note=note,
                        cancel_reason=rng.choice(CANCEL_REASONS[:4]), channel=channel, entered_by=entered_by,
                    )  # fmt: skip
                    stopped = True
                else:
                    self.intervention(
                        program, family, day, value=spec.unit_value, note=note, channel=channel, entered_by=entered_by
                    )


def _program_code(spec: _Spec, year: int, region_code: str) -> str:
    """The spec's code, or with the region code appended when another region's program already uses it."""
    taken = Program.objects.filter(year=year, code=spec.key).exclude(region_id=region_code).exists()
    return f"{spec.key}-{region_code}" if taken else spec.key


def _delete_demo_programs(programs: models.QuerySet[Program]) -> tuple[int, int]:
    """Delete demo programs with their interventions and anything else pointing at them (not history)."""
    pks = programs.values("pk")
    deleted_interventions = 0
    for relation in Program._meta.related_objects:
        if relation.many_to_many or relation.on_delete is models.DO_NOTHING:
            continue
        related: Any = relation.related_model
        count, _ = related._base_manager.filter(**{f"{relation.field.name}__in": pks}).delete()
        if related is Intervention:
            deleted_interventions = count
    _, per_model = programs.delete()
    return per_model.get(Program._meta.label, 0), deleted_interventions


def demo_programs_seed(
    *,
    region_code: str,
    seed: int = 42,
    reset: bool = False,
    today: dt.date | None = None,
) -> DemoProgramsResult:
    """Create (or keep) the demo programs of the previous and current year and their interventions.

    Needs the demo organizations, users and households of ``households.demo.demo_seed``. Idempotent: existing
    demo programs of the region are kept unless ``reset``.
    """
    started = time.monotonic()
    today = today or timezone.localdate()
    plain = normalize_region_code(region_code)
    region = Region.objects.filter(code=plain, level=RegionLevel.KABUPATEN).first()
    if region is None:
        raise DomainError(f"Wilayah {region_code} belum dimuat.", code="region_unknown")
    organizations = {
        org.short_code.removeprefix(f"{plain}-"): org
        for org in Organization.objects.filter(short_code__startswith=f"{plain}-", region=region)
    }
    missing = sorted({spec.org for spec in _SPECS} - organizations.keys())
    if missing:
        raise DomainError(
            "Organisasi demo belum ada (jalankan seed_demo dulu): " + ", ".join(missing), code="demo_orgs_missing"
        )
    user_model = get_user_model()
    users = {u.username: u for u in user_model._default_manager.filter(username__startswith="demo_")}
    result = DemoProgramsResult()
    years = (today.year - 1, today.year)
    demo_programs = Program.objects.filter(is_demo=True, region=region)

    context = history_context(command="seed_demo", part="programs", region=plain, seed=seed)
    with transaction.atomic(), context as history:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # see households.demo._check_constraints_immediately
        if demo_programs.exists():
            if not reset:
                result.kept_existing = True
                _totals(result, demo_programs)
                result.seconds = time.monotonic() - started
                return result
            result.programs_deleted, result.interventions_deleted = _delete_demo_programs(demo_programs)

        rng = random.Random(f"programs-{seed}")  # noqa: S311 - reproducible demo data, not a secret
        pools = _load_families(plain, today)
        if not pools.families:
            raise DomainError("Belum ada keluarga demo di wilayah ini.", code="demo_families_missing")
        total = len(pools.families)
        kecamatan = sorted({f.desa[:6] for f in pools.families})
        pockets = sorted(rng.sample(kecamatan, min(4, len(kecamatan))))
        regions = {r.code: r for r in Region.objects.filter(code__in=pockets)}
        reference: dict[str, dict[str, Any]] = {
            "cluster": {c.code: c for c in ProgramCluster.objects.all()},
            "strategy": {s.code: s for s in ProgramStrategy.objects.all()},
            "kind": {k.code: k for k in AssistanceKind.objects.all()},
        }
        builder = _Builder(rng=rng, today=today, users=users)
        for year in years:
            # Households in every business-capital program of the current year (convergence).
            productive = pools.of("productive")
            overlap_n = max(1, round(total * OVERLAP_SHARE)) if year == today.year else 0
            overlap = _pick(rng, productive, overlap_n, max_desil=2)
            for spec in _SPECS:
                if spec.years == "current" and year != today.year:
                    continue
                organization = organizations[spec.org]
                actor = users.get(_actor_for(spec.org)) or users.get("demo_sekretariat")
                target_regions: list[Region] = []
                if spec.target == "pockets":
                    target_regions = [regions[c] for c in pockets if c in regions]
                elif spec.target == "company_area":
                    target_regions = list(organization.area.order_by("code"))
                target_codes = [r.code for r in target_regions]
                candidates = [
                    f
                    for f in pools.of(spec.pool)
                    if not target_codes or any(f.desa.startswith(c) for c in target_codes)
                ]
                count = max(1, round(total * spec.share))
                allowed = set(candidates)
                chosen = [f for f in overlap if f in allowed] if spec.kind == _CONVERGENCE_KIND else []
                taken = {f.pk for f in chosen}
                rest = [f for f in candidates if f.pk not in taken]
                chosen += _pick(rng, rest, max(0, count - len(chosen)), max_desil=spec.max_desil)
                chosen.sort(key=lambda f: f.pk)
                tranches = max(1, len(spec.tranches))
                program = Program(
                    organization=organization,
                    region=region,
                    code=_program_code(spec, year, plain),
                    name=spec.name,
                    year=year,
                    cluster=reference["cluster"][spec.cluster],
                    strategy=reference["strategy"][spec.strategy],
                    assistance_kind=reference["kind"][spec.kind],
                    funding_source=spec.funding,
                    unit_value=Decimal(spec.unit_value),
                    target_households=_round_up(len(chosen)),
                    budget=Decimal(_round_up(len(chosen)) * spec.unit_value * tranches),
                    outside_region_policy=OutsideRegionPolicy.REFUSE
                    if spec.refuse_outside
                    else OutsideRegionPolicy.WARN,
                    max_desil=spec.max_desil,
                    eligibility_note=spec.eligibility,
                    starts_on=dt.date(year, spec.start_month, 1),
                    ends_on=dt.date(year, 12, 31),
                    once_per_year=spec.once_per_year,
                    description=spec.description,
                    is_demo=True,
                    created_by=actor,
                )
                program.save()
                if target_regions:
                    program.target_regions.set(target_regions)
                result.programs_created += 1
                if spec.once_per_year:
                    builder.once(spec, program, chosen, actor)
                else:
                    builder.recurring(spec, program, chosen, actor)
        _write(builder.items, history)
        program_realisation_refresh(program_ids=demo_programs.values_list("pk", flat=True))
        result.interventions_created = len(builder.items)
        _totals(result, demo_programs)
    result.seconds = time.monotonic() - started
    return result


def _write(rows: list[tuple[Any, ...]], history: Any) -> None:
    """COPY in chunks on PostgreSQL (the history trigger still writes one event per row, with this run's
    context); ``bulk_create`` in batches elsewhere."""
    if connection.vendor != "postgresql":
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            Intervention.objects.bulk_create([Intervention(**dict(zip(COLUMNS, row, strict=True))) for row in batch])
        return
    table = CopyTable(Intervention, COLUMNS, {}, timezone.now())
    with connection.cursor() as cursor:
        if history is not None:  # COPY bypasses pghistory's execute wrapper: set its context variables
            cursor.execute(
                "SELECT set_config('pghistory.context_id', %s, true), "
                "set_config('pghistory.context_metadata', %s, true)",
                [str(history.id), json.dumps(history.metadata)],
            )
        for start in range(0, len(rows), COPY_CHUNK):
            table.copy(cursor, rows[start : start + COPY_CHUNK])


def _actor_for(org_key: str) -> str:
    """The demo login that logs this organization's deliveries (the secretariat for the others)."""
    return {"dinsos": "demo_opd", "kebun-lestari": "demo_mitra"}.get(org_key, "demo_sekretariat")


def _round_up(count: int) -> int:
    """A planner's round target: the next multiple of 10 (at least 10)."""
    return max(10, -(-count // 10) * 10)


def _totals(result: DemoProgramsResult, programs: models.QuerySet[Program]) -> None:
    interventions = Intervention.objects.filter(program__in=programs.values("pk"))
    result.programs_total = programs.count()
    result.interventions_total = interventions.count()
    result.by_status = dict(
        interventions.order_by().values_list("status").annotate(n=models.Count("id")).values_list("status", "n")
    )
