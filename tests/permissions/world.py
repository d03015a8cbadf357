"""The one data set every permission-matrix test runs against.

Two kabupaten (Kendal 33.24 and Kutai Kartanegara 64.02, real Kemendagri codes), one actor per role, and
households that are in or out of each actor's scope. Built once per test package (``conftest.world``) and
rolled back at the end, so each test only pays for its own requests.

Everything that belongs to Kutai Kartanegara carries ``KUKAR_MARK`` in a name, everything in Kendal carries
``KENDAL_MARK``: a page that leaks an out-of-region row shows the marker.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db.models import Model

from csr.models import (
    Agreement,
    Allocation,
    CompanyContact,
    CycleReopen,
    ProposalStatus,
    ProposalTarget,
    ProposalTransition,
    Refusal,
    Reminder,
    ReminderKind,
    VerificationResult,
)
from households import choices
from households.models import Graduation, Household, HouseholdSourceLink, Person, PersonSourceLink, Snapshot
from programs.models import ActivityReport, ActivityReportStatus, Intervention, PeriodKind, Program
from reports.models import (
    GapRun,
    GapRunStatus,
    GapTrigger,
    PeriodicReport,
    PeriodicReportPeriod,
    RegionBoundarySet,
    RegionTarget,
)
from reports.services import gap_recompute_now
from tests.factories import (
    AllocationFactory,
    CsrCycleFactory,
    HouseholdFactory,
    HouseholdSourceLinkFactory,
    InterventionFactory,
    OrganizationFactory,
    PersonFactory,
    PersonSourceLinkFactory,
    ProgramFactory,
    ProposalFactory,
    SnapshotFactory,
    UserFactory,
    desa,
    load_region,
    make_nik,
    make_no_kk,
    region,
    user_with_role,
)
from tkpk.models import AccessAction, Membership, Organization, OrganizationKind, PersonalDataAccess
from tkpk.scoping import Role

User = get_user_model()

KENDAL = "3324"
KUKAR = "6402"
PROVINCE = "33"
KENDAL_DESA = "3324012001"  # Blumah, Plantungan, Kendal
KENDAL_OTHER_DESA = "3324151001"  # Candiroto, Kendal (another kecamatan)
KUKAR_DESA = "6402012001"  # Perian, Muara Muntai, Kutai Kartanegara

KENDAL_MARK = "RahasiaKendal"
KUKAR_MARK = "RahasiaKukar"

# Actors of the matrix. ``anonymous`` has no user; every other actor is staff, so that a refusal in the admin
# proves it is the role that blocks, not the missing staff flag.
ACTORS = (
    "secretariat",
    "opd_officer",
    "partner",
    "partner_b",
    "leadership",
    "secretariat_kukar",
    "secretariat_province",
    "no_membership",
    "anonymous",
)

# Household targets: where each one sits relative to the Kendal actors.
IN_REGION = "in-region"  # Kendal, allocated to partner A
UNALLOCATED = "in-region-unallocated"  # Kendal, another kecamatan, allocated to nobody
PARTNER_B_ALLOCATED = "in-region-partner-b"  # Kendal, allocated to partner B
OUT_OF_REGION = "out-of-region"  # Kutai Kartanegara, allocated to a Kukar company
HOUSEHOLD_TARGETS = (IN_REGION, UNALLOCATED, PARTNER_B_ALLOCATED, OUT_OF_REGION)

# Programs, by owner: the OPD officer's agency, another Kendal agency (no actor of its own), each partner's
# company, and an agency in Kutai Kartanegara. Each carries its own mark (name, code, report text), so a page
# that shows another owner's program, intervention or report is caught even among Kendal rows.
OWN_AGENCY = "opd"
OTHER_AGENCY = "other-agency"
PARTNER_PROGRAM = "partner"
PARTNER_B_PROGRAM = "partner-b"
KUKAR_AGENCY = "kukar-opd"
PROGRAM_TARGETS = (OWN_AGENCY, OTHER_AGENCY, PARTNER_PROGRAM, PARTNER_B_PROGRAM, KUKAR_AGENCY)
# world.organizations key of each program's owner.
PROGRAM_OWNER = {
    OWN_AGENCY: "opd_officer",
    OTHER_AGENCY: "other_agency",
    PARTNER_PROGRAM: "partner",
    PARTNER_B_PROGRAM: "partner_b",
    KUKAR_AGENCY: "kukar_opd",
}
PROGRAM_MARK = {
    OWN_AGENCY: "ProgDinsos4411",
    OTHER_AGENCY: "ProgDinlain4412",
    PARTNER_PROGRAM: "ProgMitra4413",
    PARTNER_B_PROGRAM: "ProgMitrab4414",
    KUKAR_AGENCY: "ProgKukar4415",
}
# Interventions "<program>/<household target>": every delivery a service would accept (an owner logs only on
# households it may open; a partner only on its allocated ones). The OPD's program also reached partner A's
# and partner B's allocated households; the Kendal household in another kecamatan (UNALLOCATED) is left free
# for the OPD's own program, so a logging test there is not a duplicate.
INTERVENTION_TARGETS = (
    f"{OWN_AGENCY}/{IN_REGION}",
    f"{OWN_AGENCY}/{PARTNER_B_ALLOCATED}",
    f"{OTHER_AGENCY}/{IN_REGION}",
    f"{OTHER_AGENCY}/{UNALLOCATED}",
    f"{PARTNER_PROGRAM}/{IN_REGION}",
    f"{PARTNER_B_PROGRAM}/{PARTNER_B_ALLOCATED}",
    f"{KUKAR_AGENCY}/{OUT_OF_REGION}",
)
# Semester activity reports, by organization (PROGRAM_OWNER keys): the OPD's is submitted (ready for review),
# the partner's is a draft (still its own to edit), the other agency's and the Kukar agency's are submitted.
REPORT_TARGETS = (OWN_AGENCY, PARTNER_PROGRAM, OTHER_AGENCY, KUKAR_AGENCY)
REPORT_MARK = {
    OWN_AGENCY: "LapDinsos5511",
    PARTNER_PROGRAM: "LapMitra5513",
    OTHER_AGENCY: "LapDinlain5512",
    KUKAR_AGENCY: "LapKukar5515",
}


@dataclass
class World:
    users: dict[str, Any]
    organizations: dict[str, Organization]
    households: dict[str, Household]
    heads: dict[str, Person]
    superuser: Any
    programs: dict[str, Program] = field(default_factory=dict)
    interventions: dict[str, Intervention] = field(default_factory=dict)
    activity_reports: dict[str, ActivityReport] = field(default_factory=dict)
    # Admin model label -> {"kendal": object, "kukar": object}: one row on each side of the border.
    border: dict[str, dict[str, Model]] = field(default_factory=dict)
    # Coverage gaps (issue 6), by side ("kendal"/"kukar"; gap_runs also "all": the nightly whole-registry run).
    gap_runs: dict[str, GapRun] = field(default_factory=dict)
    graduations: dict[str, Graduation] = field(default_factory=dict)
    periodic_reports: dict[str, PeriodicReport] = field(default_factory=dict)
    # CSR portal (issue 7): cycles, proposals, refusals, allocations by target (world_csr.build_csr).
    csr: Any = None

    def user(self, actor: str) -> Any:
        return self.users.get(actor)

    @property
    def secret_identifiers(self) -> list[str]:
        """Every full NIK and No KK in the data set (none may leave through the API or a by-name page)."""
        niks = list(Person.objects.exclude(nik=None).values_list("nik", flat=True))
        kks = list(Household.objects.exclude(no_kk=None).values_list("no_kk", flat=True))
        return [*niks, *kks]


def _household(head_name: str, desa_code: str, serial: int) -> tuple[Household, Person]:
    kecamatan = desa_code[:6]
    household = HouseholdFactory(
        head_name=head_name, desa=desa(desa_code), no_kk=make_no_kk(kecamatan=kecamatan, serial=serial), desil=1
    )
    head = PersonFactory(
        household=household,
        name=head_name,
        sex=choices.Sex.MALE,
        birth_date=dt.date(1979, 5, 17),
        relationship=choices.Relationship.HEAD,
        nik=make_nik(kecamatan=kecamatan, birth_date=dt.date(1979, 5, 17), sex=choices.Sex.MALE, serial=serial),
    )
    PersonFactory(
        household=household,
        name=f"Siti {head_name.split()[-1]}",
        sex=choices.Sex.FEMALE,
        birth_date=dt.date(1982, 2, 3),
        relationship=choices.Relationship.SPOUSE,
        nik=make_nik(kecamatan=kecamatan, birth_date=dt.date(1982, 2, 3), sex=choices.Sex.FEMALE, serial=serial),
    )
    return household, head


def build_world() -> World:
    load_region("33.24")
    load_region("64.02")

    users: dict[str, Any] = {}
    organizations: dict[str, Organization] = {}

    def actor(name: str, role: str, region_code: str, org_name: str, mark: str = "", **org: Any) -> None:
        kind = {
            Role.SECRETARIAT: OrganizationKind.SECRETARIAT,
            Role.LEADERSHIP: OrganizationKind.SECRETARIAT,
            Role.OPD_OFFICER: OrganizationKind.OPD,
            Role.PARTNER: OrganizationKind.COMPANY,
        }[role]
        organization = OrganizationFactory(kind=kind, name=org_name, region=region(region_code), **org)
        user = user_with_role(
            role, organization=organization, username=name.replace("_", "-"), last_name=mark, is_staff=True
        )
        users[name], organizations[name] = user, organization

    actor("secretariat", Role.SECRETARIAT, KENDAL, f"Sekretariat TKPK {KENDAL_MARK}", KENDAL_MARK)
    actor("opd_officer", Role.OPD_OFFICER, KENDAL, f"Dinas Sosial {KENDAL_MARK}", KENDAL_MARK)
    actor("partner", Role.PARTNER, KENDAL, f"PT Sawit {KENDAL_MARK} Satu", KENDAL_MARK, sector="plantation")
    actor("partner_b", Role.PARTNER, KENDAL, f"PT Sawit {KENDAL_MARK} Dua", KENDAL_MARK, sector="plantation")
    actor("leadership", Role.LEADERSHIP, KENDAL, f"Pimpinan TKPK {KENDAL_MARK}", KENDAL_MARK)
    actor("secretariat_kukar", Role.SECRETARIAT, KUKAR, f"Sekretariat TKPK {KUKAR_MARK}", KUKAR_MARK)
    actor("secretariat_province", Role.SECRETARIAT, PROVINCE, "Sekretariat TKPK Provinsi Jawa Tengah")
    users["no_membership"] = UserFactory(username="no-membership", last_name="", is_staff=True)
    organizations["kukar_partner"] = OrganizationFactory(
        kind=OrganizationKind.COMPANY, name=f"PT Tambang {KUKAR_MARK}", region=region(KUKAR), sector="mining"
    )
    organizations["other_agency"] = OrganizationFactory(
        kind=OrganizationKind.OPD, name=f"Dinas Pertanian {KENDAL_MARK}", region=region(KENDAL)
    )
    organizations["kukar_opd"] = OrganizationFactory(
        kind=OrganizationKind.OPD, name=f"Dinas Sosial {KUKAR_MARK}", region=region(KUKAR)
    )
    # Their officers are no actors of the matrix (the OPD officer stands for every agency); they only log the
    # agencies' deliveries and submit their reports, as a real officer would.
    for key in ("other_agency", "kukar_opd"):
        users[key] = user_with_role(
            Role.OPD_OFFICER, organization=organizations[key], username=f"petugas-{key.replace('_', '-')}"
        )
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)

    households: dict[str, Household] = {}
    heads: dict[str, Person] = {}
    for serial, (target, name, code) in enumerate(
        [
            (IN_REGION, f"Sutrisno {KENDAL_MARK} Satu", KENDAL_DESA),
            (UNALLOCATED, f"Wagiman {KENDAL_MARK} Dua", KENDAL_OTHER_DESA),
            (PARTNER_B_ALLOCATED, f"Paijo {KENDAL_MARK} Tiga", KENDAL_DESA),
            (OUT_OF_REGION, f"Baharuddin {KUKAR_MARK} Empat", KUKAR_DESA),
        ],
        start=101,
    ):
        households[target], heads[target] = _household(name, code, serial)

    kendal_snapshot = SnapshotFactory(label=f"P3KE 2024 {KENDAL_MARK}", region=region(KENDAL))
    kukar_snapshot = SnapshotFactory(label=f"P3KE 2024 {KUKAR_MARK}", region=region(KUKAR))
    for target, household in households.items():
        snapshot = kukar_snapshot if target == OUT_OF_REGION else kendal_snapshot
        HouseholdSourceLinkFactory(household=household, snapshot=snapshot)
        PersonSourceLinkFactory(person=heads[target], snapshot=snapshot)

    AllocationFactory(organization=organizations["partner"], household=households[IN_REGION])
    AllocationFactory(organization=organizations["partner_b"], household=households[PARTNER_B_ALLOCATED])
    AllocationFactory(organization=organizations["kukar_partner"], household=households[OUT_OF_REGION])

    programs, interventions, reports = _programs(users, organizations, households)

    kendal_log = PersonalDataAccess.objects.create(
        user=users["secretariat"], action=AccessAction.VIEW_HOUSEHOLD, object_type="household",
        object_ids=[households[IN_REGION].pk], record_count=1, region_code=KENDAL_DESA, detail=KENDAL_MARK,
    )  # fmt: skip
    kukar_log = PersonalDataAccess.objects.create(
        user=users["secretariat_kukar"], action=AccessAction.VIEW_HOUSEHOLD, object_type="household",
        object_ids=[households[OUT_OF_REGION].pk], record_count=1, region_code=KUKAR_DESA, detail=KUKAR_MARK,
    )  # fmt: skip

    gaps = _gaps(users, households)
    csr = _csr(users, organizations, households)

    def link(model: type[Model], **kw: Any) -> Model:
        return model._default_manager.get(**kw)

    border = {
        "tkpk.region": {"kendal": region(KENDAL_DESA), "kukar": region(KUKAR_DESA)},
        "tkpk.organization": {"kendal": organizations["partner"], "kukar": organizations["secretariat_kukar"]},
        "tkpk.membership": {
            "kendal": Membership.objects.get(user=users["opd_officer"]),
            "kukar": Membership.objects.get(user=users["secretariat_kukar"]),
        },
        "auth.user": {"kendal": users["opd_officer"], "kukar": users["secretariat_kukar"]},
        "tkpk.personaldataaccess": {"kendal": kendal_log, "kukar": kukar_log},
        "households.snapshot": {"kendal": kendal_snapshot, "kukar": kukar_snapshot},
        "households.household": {"kendal": households[IN_REGION], "kukar": households[OUT_OF_REGION]},
        "households.person": {"kendal": heads[IN_REGION], "kukar": heads[OUT_OF_REGION]},
        "households.householdsourcelink": {
            "kendal": link(HouseholdSourceLink, household=households[IN_REGION]),
            "kukar": link(HouseholdSourceLink, household=households[OUT_OF_REGION]),
        },
        "households.personsourcelink": {
            "kendal": link(PersonSourceLink, person=heads[IN_REGION]),
            "kukar": link(PersonSourceLink, person=heads[OUT_OF_REGION]),
        },
        "csr.allocation": {
            "kendal": link(Allocation, household=households[IN_REGION]),
            "kukar": link(Allocation, household=households[OUT_OF_REGION]),
        },
        "programs.program": {"kendal": programs[OWN_AGENCY], "kukar": programs[KUKAR_AGENCY]},
        "programs.intervention": {
            "kendal": interventions[f"{OWN_AGENCY}/{IN_REGION}"],
            "kukar": interventions[f"{KUKAR_AGENCY}/{OUT_OF_REGION}"],
        },
        "programs.activityreport": {"kendal": reports[OWN_AGENCY], "kukar": reports[KUKAR_AGENCY]},
        "reports.gaprun": {"kendal": gaps["runs"]["kendal"], "kukar": gaps["runs"]["kukar"]},
        "reports.regiontarget": gaps["targets"],
        "reports.regionboundaryset": gaps["boundaries"],
        "households.graduation": gaps["graduations"],
        "reports.periodicreport": gaps["periodic_reports"],
        **csr,
    }
    # Make sure no stray rows from elsewhere change what "only in-scope rows" means.
    assert Household.objects.count() == len(HOUSEHOLD_TARGETS)
    assert Snapshot.objects.exclude(pk__in=[kendal_snapshot.pk, kukar_snapshot.pk]).count() == 0
    assert Program.objects.count() == len(PROGRAM_TARGETS)
    assert Intervention.objects.count() == len(INTERVENTION_TARGETS)
    return World(
        users=users,
        organizations=organizations,
        households=households,
        heads=heads,
        superuser=superuser,
        programs=programs,
        interventions=interventions,
        activity_reports=reports,
        border=border,
        gap_runs=gaps["runs"],
        graduations=gaps["graduations"],
        periodic_reports=gaps["periodic_reports"],
    )


def _programs(
    users: dict[str, Any], organizations: dict[str, Organization], households: dict[str, Household]
) -> tuple[dict[str, Program], dict[str, Intervention], dict[str, ActivityReport]]:
    year = dt.date.today().year
    programs: dict[str, Program] = {}
    for key in PROGRAM_TARGETS:
        owner = organizations[PROGRAM_OWNER[key]]
        region_mark = KUKAR_MARK if key == KUKAR_AGENCY else KENDAL_MARK
        programs[key] = ProgramFactory(
            organization=owner,
            code=f"{PROGRAM_MARK[key].lower()}",
            name=f"Bantuan {region_mark} {PROGRAM_MARK[key]}",
            year=year,
            description=PROGRAM_MARK[key],
            funding_source="csr" if owner.kind == OrganizationKind.COMPANY else "apbd",
            created_by=users.get(PROGRAM_OWNER[key]),
        )
    interventions: dict[str, Intervention] = {}
    for key in INTERVENTION_TARGETS:
        program_key, target = key.split("/")
        interventions[key] = InterventionFactory(
            program=programs[program_key],
            household=households[target],
            note=f"{PROGRAM_MARK[program_key]} {target}",
            entered_by=users.get(PROGRAM_OWNER[program_key]),
        )
    reports: dict[str, ActivityReport] = {}
    for key in REPORT_TARGETS:
        draft = key == PARTNER_PROGRAM
        reports[key] = ActivityReport.objects.create(
            organization=organizations[PROGRAM_OWNER[key]],
            period_kind=PeriodKind.SEMESTER,
            period_year=year,
            period_number=1,
            narrative=f"Uraian {REPORT_MARK[key]}",
            status=ActivityReportStatus.DRAFT if draft else ActivityReportStatus.SUBMITTED,
            submitted_by=None if draft else users.get(PROGRAM_OWNER[key]),
            submitted_at=None if draft else dt.datetime(year, 7, 5, 9, 0, tzinfo=dt.UTC),
        )
    return programs, interventions, reports


# Marks of the gap data of each side (targets' source note, boundary names, graduation reasons, report files).
GAP_MARK = {"kendal": "KesenjanganKendal6611", "kukar": "KesenjanganKukar6612"}
GAP_SIDE_REGION = {"kendal": KENDAL, "kukar": KUKAR}
GAP_SIDE_HOUSEHOLD = {"kendal": IN_REGION, "kukar": OUT_OF_REGION}


def _square(code: str, x: float) -> dict[str, Any]:
    ring = [[x, -7.0], [x + 0.1, -7.0], [x + 0.1, -6.9], [x, -6.9], [x, -7.0]]
    return {"type": "Feature", "properties": {"kode": code}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _gaps(users: dict[str, Any], households: dict[str, Household]) -> dict[str, dict[str, Any]]:
    """Gap figures of this year as the product computes them: the nightly whole-registry run, then a run after
    an upload in each kabupaten (Kutai Kartanegara's last, so "the newest run" is another region's for Kendal).
    Each side also gets a poverty target, a kecamatan boundary set, a graduation and a finished periodic report."""
    year = dt.date.today().year
    runs = {
        "all": gap_recompute_now(year=year, region_code="", trigger=GapTrigger.SCHEDULE),
        "kendal": gap_recompute_now(year=year, region_code=KENDAL, trigger=GapTrigger.IMPORT),
        "kukar": gap_recompute_now(year=year, region_code=KUKAR, trigger=GapTrigger.IMPORT),
    }
    assert all(run.status == GapRunStatus.DONE for run in runs.values()), {k: r.message for k, r in runs.items()}
    targets, boundaries, graduations, periodic_reports = {}, {}, {}, {}
    for side, code in GAP_SIDE_REGION.items():
        mark = GAP_MARK[side]
        owner = users["secretariat" if side == "kendal" else "secretariat_kukar"]
        targets[side] = RegionTarget.objects.create(
            region=region(code),
            year=year,
            poverty_rate_target="6.65",
            poverty_rate_actual="7.44",
            extreme_rate_target="0.00",
            extreme_rate_actual="0.40",
            source_note=f"BPS {mark}",
        )
        kecamatan = (KENDAL_DESA if side == "kendal" else KUKAR_DESA)[:6]
        boundaries[side] = RegionBoundarySet.objects.create(
            region=region(code),
            level=3,
            name=f"Batas kecamatan {mark}",
            geojson={"type": "FeatureCollection", "features": [_square(kecamatan, 110.0)]},
            feature_count=1,
            is_schematic=True,
            uploaded_by=owner,
        )
        graduations[side] = Graduation.objects.create(
            household=households[GAP_SIDE_HOUSEHOLD[side]],
            graduated_on=dt.date(year - 1, 11, 1),
            reason=f"Usaha berkembang {mark}",
            verified_by=owner,
            evidence=ContentFile(f"Berita acara graduasi {mark}".encode(), name=f"bukti-{side}.txt"),
        )
        report = PeriodicReport(
            region=region(code),
            year=year,
            period=PeriodicReportPeriod.SEMESTER_1,
            status=GapRunStatus.DONE,
            progress=100,
            requested_by=owner,
            gap_run=runs[side],
            sources_label=f"P3KE {mark}",
        )
        report.pdf.save(f"{side}.pdf", ContentFile(f"%PDF-1.4 {mark}".encode()), save=False)
        report.xlsx.save(f"{side}.xlsx", ContentFile(mark.encode()), save=False)
        report.save()
        periodic_reports[side] = report
    return {
        "runs": runs,
        "targets": targets,
        "boundaries": boundaries,
        "graduations": graduations,
        "periodic_reports": periodic_reports,
    }


def _csr(
    users: dict[str, Any], organizations: dict[str, Organization], households: dict[str, Household]
) -> dict[str, dict[str, Model]]:
    """CSR rows on each side of the border (admin): a cycle of each kabupaten with a reopening, a partner contact, an
    agreed proposal (one eligible target, a timeline step, its agreement), a refusal letter and a reminder. Written
    directly (the services would also create a program per agreement)."""
    sides = {
        "kendal": (KENDAL, "partner", "secretariat", IN_REGION, KENDAL_MARK),
        "kukar": (KUKAR, "kukar_partner", "secretariat_kukar", OUT_OF_REGION, KUKAR_MARK),
    }
    rows: dict[str, dict[str, Model]] = {}

    def put(label: str, side: str, obj: Model) -> None:
        rows.setdefault(label, {})[side] = obj

    today = dt.date.today()
    for side, (code, org_key, owner_key, target, mark) in sides.items():
        organization, owner = organizations[org_key], users[owner_key]
        cycle = CsrCycleFactory(region=region(code), name=f"Musrenbang CSR {mark}", created_by=owner)
        put("csr.csrcycle", side, cycle)
        put(
            "csr.cyclereopen",
            side,
            CycleReopen.objects.create(
                cycle=cycle,
                organization=organization,
                until=cycle.proposal_deadline + dt.timedelta(days=7),
                note=f"Dibuka kembali {mark}",
                created_by=owner,
            ),
        )
        put(
            "csr.companycontact",
            side,
            CompanyContact.objects.create(organization=organization, name=f"Kontak {mark}", is_primary=True),
        )
        proposal = ProposalFactory(
            organization=organization, cycle=cycle, title=f"Program CSR {mark}", status=ProposalStatus.AGREED
        )
        ProposalTarget.objects.create(
            proposal=proposal, household=households[target], verification=VerificationResult.ELIGIBLE
        )
        ProposalTransition.objects.create(
            proposal=proposal, action="submit", from_status="draft", to_status="submitted", note=f"Catatan {mark}"
        )
        put("csr.proposal", side, proposal)
        agreement = Agreement(
            proposal=proposal,
            number=f"PKS/{mark}/{today.year}",
            signed_on=today,
            government_signatory=f"Kepala Bappeda {mark}",
            company_signatory=f"Direktur {mark}",
            created_by=owner,
        )
        agreement.pdf.save(f"pks-{side}.pdf", ContentFile(f"%PDF-1.4 {mark}".encode()), save=True)
        put("csr.agreement", side, agreement)
        refusal = Refusal(
            organization=organization,
            cycle=cycle,
            reason=f"Tidak ada anggaran CSR tahun ini {mark}",
            signatory_name=f"Direktur {mark}",
            signatory_position="Direktur",
            letter_number=f"SURAT/{mark}/{today.year}",
        )
        refusal.letter_pdf.save(f"surat-{side}.pdf", ContentFile(f"%PDF-1.4 {mark}".encode()), save=True)
        put("csr.refusal", side, refusal)
        put(
            "csr.reminder",
            side,
            Reminder.objects.create(
                cycle=cycle, organization=organization, kind=ReminderKind.DEADLINE, step="H-7", recipients=[]
            ),
        )
    return rows
