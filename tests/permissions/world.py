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
from django.db.models import Model

from csr.models import Allocation
from households import choices
from households.models import Household, HouseholdSourceLink, Person, PersonSourceLink, Snapshot
from tests.factories import (
    AllocationFactory,
    HouseholdFactory,
    HouseholdSourceLinkFactory,
    OrganizationFactory,
    PersonFactory,
    PersonSourceLinkFactory,
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


@dataclass
class World:
    users: dict[str, Any]
    organizations: dict[str, Organization]
    households: dict[str, Household]
    heads: dict[str, Person]
    superuser: Any
    # Admin model label -> {"kendal": object, "kukar": object}: one row on each side of the border.
    border: dict[str, dict[str, Model]] = field(default_factory=dict)

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

    kendal_log = PersonalDataAccess.objects.create(
        user=users["secretariat"], action=AccessAction.VIEW_HOUSEHOLD, object_type="household",
        object_ids=[households[IN_REGION].pk], record_count=1, region_code=KENDAL_DESA, detail=KENDAL_MARK,
    )  # fmt: skip
    kukar_log = PersonalDataAccess.objects.create(
        user=users["secretariat_kukar"], action=AccessAction.VIEW_HOUSEHOLD, object_type="household",
        object_ids=[households[OUT_OF_REGION].pk], record_count=1, region_code=KUKAR_DESA, detail=KUKAR_MARK,
    )  # fmt: skip

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
    }
    # Make sure no stray rows from elsewhere change what "only in-scope rows" means.
    assert Household.objects.count() == len(HOUSEHOLD_TARGETS)
    assert Snapshot.objects.exclude(pk__in=[kendal_snapshot.pk, kukar_snapshot.pk]).count() == 0
    return World(
        users=users, organizations=organizations, households=households, heads=heads, superuser=superuser, border=border
    )
