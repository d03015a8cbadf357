"""Code lists of the P3KE family and person files.

Stored values are short upper-case codes; labels are the Indonesian wording of the source files. The
import engine maps the source's upper-case words onto these codes case-insensitively.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class HouseholdStatus(models.TextChoices):
    ACTIVE = "active", _("Aktif")
    GRADUATED = "graduated", _("Graduasi (tidak lagi miskin)")
    MOVED = "moved", _("Pindah")
    DECEASED = "deceased", _("Meninggal/bubar")
    MERGED = "merged", _("Digabung ke keluarga lain")


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("Aktif")
    MOVED = "moved", _("Pindah")
    DECEASED = "deceased", _("Meninggal")


class NikStatus(models.TextChoices):
    VALID = "valid", _("Sah secara struktur")
    MISSING = "missing", _("Kosong")
    INVALID = "invalid", _("Tidak sah")
    NEEDS_VERIFICATION = "needs_verification", _("NIK perlu verifikasi")


class Sex(models.TextChoices):
    MALE = "L", _("Laki-laki")
    FEMALE = "P", _("Perempuan")


class Relationship(models.TextChoices):
    HEAD = "KEPALA_KELUARGA", _("Kepala keluarga")
    SPOUSE = "ISTRI_SUAMI", _("Istri/suami")
    CHILD = "ANAK", _("Anak")
    CHILD_IN_LAW = "MENANTU", _("Menantu")
    GRANDCHILD = "CUCU", _("Cucu")
    PARENT = "ORANG_TUA", _("Orang tua")
    PARENT_IN_LAW = "MERTUA", _("Mertua")
    OTHER_RELATIVE = "FAMILI_LAIN", _("Famili lain")
    OTHER = "LAINNYA", _("Lainnya")


class MaritalStatus(models.TextChoices):
    SINGLE = "BELUM_KAWIN", _("Belum kawin")
    MARRIED = "KAWIN", _("Kawin")
    DIVORCED = "CERAI_HIDUP", _("Cerai hidup")
    WIDOWED = "CERAI_MATI", _("Cerai mati")


class Education(models.TextChoices):
    NONE = "TIDAK_SEKOLAH", _("Tidak/belum sekolah")
    SD_NOT_FINISHED = "BELUM_TAMAT_SD", _("Belum tamat SD/sederajat")
    SD = "SD", _("Tamat SD/sederajat")
    SMP = "SMP", _("SLTP/sederajat")
    SMA = "SMA", _("SLTA/sederajat")
    DIPLOMA_1_2 = "D1_D2", _("Diploma I/II")
    DIPLOMA_3 = "D3", _("Akademi/Diploma III/Sarjana muda")
    BACHELOR = "S1_D4", _("Diploma IV/Strata I")
    MASTER = "S2", _("Strata II")
    DOCTORATE = "S3", _("Strata III")


class WorkStatus(models.TextChoices):
    NOT_WORKING = "TIDAK_BEKERJA", _("Tidak/belum bekerja")
    OWN_ACCOUNT = "BERUSAHA_SENDIRI", _("Berusaha sendiri")
    EMPLOYER = "BERUSAHA_DIBANTU", _("Berusaha dibantu buruh")
    EMPLOYEE = "BURUH_KARYAWAN", _("Buruh/karyawan/pegawai")
    CASUAL = "PEKERJA_BEBAS", _("Pekerja bebas")
    FAMILY_WORKER = "PEKERJA_KELUARGA", _("Pekerja keluarga/tidak dibayar")


class Disability(models.TextChoices):
    NONE = "TIDAK_ADA", _("Tidak ada")
    PHYSICAL = "FISIK", _("Disabilitas fisik")
    VISUAL = "NETRA", _("Disabilitas netra")
    HEARING_SPEECH = "RUNGU_WICARA", _("Disabilitas rungu/wicara")
    MENTAL = "MENTAL", _("Disabilitas mental/jiwa")
    INTELLECTUAL = "INTELEKTUAL", _("Disabilitas intelektual")
    MULTIPLE = "GANDA", _("Disabilitas ganda")


class HouseOwnership(models.TextChoices):
    OWN = "MILIK_SENDIRI", _("Milik sendiri")
    RENT = "KONTRAK_SEWA", _("Kontrak/sewa")
    RENT_FREE = "BEBAS_SEWA", _("Bebas sewa/menumpang")
    OFFICIAL = "DINAS", _("Dinas")
    OTHER = "LAINNYA", _("Lainnya")


class RoofType(models.TextChoices):
    CONCRETE = "BETON", _("Beton")
    TILE = "GENTENG", _("Genteng")
    ZINC = "SENG", _("Seng")
    ASBESTOS = "ASBES", _("Asbes")
    WOOD_SHINGLE = "KAYU_SIRAP", _("Kayu/sirap")
    BAMBOO = "BAMBU", _("Bambu")
    THATCH = "JERAMI_IJUK_RUMBIA", _("Jerami/ijuk/daun/rumbia")
    OTHER = "LAINNYA", _("Lainnya")


class WallType(models.TextChoices):
    MASONRY = "TEMBOK", _("Tembok")
    PLASTERED_BAMBOO = "PLESTERAN_ANYAMAN_BAMBU", _("Plesteran anyaman bambu/kawat")
    WOOD_BOARD = "KAYU_PAPAN", _("Kayu/papan")
    WOVEN_BAMBOO = "ANYAMAN_BAMBU", _("Anyaman bambu")
    LOG = "BATANG_KAYU", _("Batang kayu")
    BAMBOO = "BAMBU", _("Bambu")
    OTHER = "LAINNYA", _("Lainnya")


class FloorType(models.TextChoices):
    MARBLE = "MARMER_GRANIT", _("Marmer/granit")
    CERAMIC = "KERAMIK", _("Keramik")
    VINYL = "PARKET_VINIL", _("Parket/vinil/karpet")
    TILE = "UBIN_TEGEL", _("Ubin/tegel/teraso")
    WOOD = "KAYU_PAPAN", _("Kayu/papan")
    CEMENT = "SEMEN_BATA", _("Semen/bata merah")
    BAMBOO = "BAMBU", _("Bambu")
    EARTH = "TANAH", _("Tanah")
    OTHER = "LAINNYA", _("Lainnya")


class BuildingQuality(models.TextChoices):
    GOOD = "BAIK", _("Baik/bagus")
    POOR = "JELEK", _("Jelek/rusak")


class LightingSource(models.TextChoices):
    PLN_METERED = "PLN_METERAN", _("Listrik PLN dengan meteran")
    PLN_UNMETERED = "PLN_TANPA_METERAN", _("Listrik PLN tanpa meteran")
    NON_PLN = "LISTRIK_NON_PLN", _("Listrik non-PLN")
    NOT_ELECTRIC = "BUKAN_LISTRIK", _("Bukan listrik")


class PowerCapacity(models.TextChoices):
    VA_450 = "450", _("450 watt")
    VA_900 = "900", _("900 watt")
    VA_1300 = "1300", _("1.300 watt")
    VA_2200 = "2200", _("2.200 watt")
    ABOVE_2200 = "LEBIH_2200", _("Lebih dari 2.200 watt")
    NO_METER = "TANPA_METERAN", _("Tanpa meteran")


class CookingFuel(models.TextChoices):
    ELECTRICITY = "LISTRIK", _("Listrik")
    LPG_LARGE = "ELPIJI_5_5KG_LEBIH", _("Elpiji 5,5 kg atau lebih")
    LPG_3KG = "ELPIJI_3KG", _("Elpiji 3 kg")
    CITY_GAS = "GAS_KOTA", _("Gas kota/meteran PGN")
    BIOGAS = "BIOGAS", _("Biogas")
    KEROSENE = "MINYAK_TANAH", _("Minyak tanah")
    BRIQUETTE = "BRIKET", _("Briket")
    CHARCOAL = "ARANG", _("Arang")
    FIREWOOD = "KAYU_BAKAR", _("Kayu bakar")
    NO_COOKING = "TIDAK_MEMASAK", _("Tidak memasak di rumah")
    OTHER = "LAINNYA", _("Lainnya")


class WaterSource(models.TextChoices):
    BOTTLED = "AIR_KEMASAN", _("Air kemasan bermerk")
    REFILL = "AIR_ISI_ULANG", _("Air isi ulang")
    PIPED = "LEDENG", _("Leding/PDAM")
    BOREHOLE = "SUMUR_BOR", _("Sumur bor/pompa")
    PROTECTED_WELL = "SUMUR_TERLINDUNG", _("Sumur terlindung")
    UNPROTECTED_WELL = "SUMUR_TAK_TERLINDUNG", _("Sumur tak terlindung")
    PROTECTED_SPRING = "MATA_AIR_TERLINDUNG", _("Mata air terlindung")
    UNPROTECTED_SPRING = "MATA_AIR_TAK_TERLINDUNG", _("Mata air tak terlindung")
    SURFACE = "AIR_PERMUKAAN", _("Air permukaan (sungai/danau/waduk)")
    RAIN = "AIR_HUJAN", _("Air hujan")
    OTHER = "LAINNYA", _("Lainnya")


class ToiletFacility(models.TextChoices):
    OWN = "SENDIRI", _("Ada, milik sendiri")
    SHARED = "BERSAMA", _("Ada, bersama rumah tangga lain")
    PUBLIC = "UMUM", _("MCK umum")
    NONE = "TIDAK_ADA", _("Tidak ada")


class VerificationPriority(models.TextChoices):
    NONE = "TIDAK", _("Tidak perlu verval")
    DUPLICATE_NIK = "NIK_DUPLIKAT", _("NIK duplikat")
    FAMILY_NIK_EMPTY = "KELUARGA_NIK_KOSONG", _("Keluarga dengan NIK kosong")
    OTHER = "LAINNYA", _("Lainnya")


# Housing that counts as unfit (rumah tidak layak huni) for targeting: earth floor or a poor roof/wall/floor.
UNFIT_FLOOR_TYPES = {FloorType.EARTH, FloorType.BAMBOO}
