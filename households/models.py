"""The household registry: families, persons and their provenance from every source."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from households import choices
from tkpk.identifiers import check_nik, check_no_kk, mask_identifier
from tkpk.models import Region
from tkpk.scoping import Grant, Role, ScopedQuerySet, region_q


class Source(models.Model):
    """A data source: P3KE, DTKS, DTSEN or local data. Rows are reference data (seeded by migration)."""

    code = models.SlugField(_("kode"), max_length=20, primary_key=True)
    name = models.CharField(_("nama"), max_length=120)
    publisher = models.CharField(_("penerbit"), max_length=120, blank=True)
    description = models.TextField(_("keterangan"), blank=True)

    class Meta:
        verbose_name = _("sumber data")
        verbose_name_plural = _("sumber data")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SnapshotQuerySet(ScopedQuerySet["Snapshot"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(region__code__startswith=grant.region_code) | Q(region__isnull=True)
        return None


class Snapshot(models.Model):
    """One delivery of a source (e.g. P3KE 2024 semester 1): every provenance link points to one."""

    source = models.ForeignKey(Source, verbose_name=_("sumber"), on_delete=models.PROTECT, related_name="snapshots")
    label = models.CharField(_("label"), max_length=100)
    taken_on = models.DateField(_("tanggal data"))
    region = models.ForeignKey(
        Region, verbose_name=_("wilayah cakupan"), null=True, blank=True, on_delete=models.PROTECT
    )
    note = models.TextField(_("catatan"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("dibuat oleh"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("snapshot data")
        verbose_name_plural = _("snapshot data")
        ordering = ["-taken_on", "source"]
        constraints = [models.UniqueConstraint(fields=["source", "label"], name="snapshot_label_unique_per_source")]

    def __str__(self) -> str:
        return f"{self.source_id.upper()} {self.label}"


class HouseholdQuerySet(ScopedQuerySet["Household"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.OPD_OFFICER):
            return region_q(grant)
        if grant.role == Role.PARTNER:
            from csr.models import Allocation

            # Only live allocations: a household released back to the pool (e.g. found ineligible in the field)
            # leaves the partner's view of the registry.
            allocated = Allocation.objects.filter(organization_id=grant.organization_id).active().values("household_id")
            return region_q(grant) & Q(pk__in=allocated)
        return None

    def aggregate_grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.LEADERSHIP:
            return region_q(grant)
        return self.grant_q(grant)

    def active(self) -> HouseholdQuerySet:
        return self.filter(status=choices.HouseholdStatus.ACTIVE)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Household(models.Model):
    """One family (keluarga). ``id`` is the stable internal id; source ids live in ``HouseholdSourceLink``.

    Name search on PostgreSQL uses trigram GIN indexes on UPPER(head_name) / UPPER(name), created by
    migration ``0002_trigram_name_indexes`` (PostgreSQL only, so SQLite keeps working).
    """

    head_name = models.CharField(_("nama kepala keluarga"), max_length=150)
    no_kk = models.CharField(_("nomor KK"), max_length=16, null=True, blank=True)
    address = models.CharField(_("alamat"), max_length=300, blank=True)
    dusun = models.CharField(_("dusun"), max_length=100, blank=True)
    rt = models.CharField(_("RT"), max_length=3, blank=True)
    rw = models.CharField(_("RW"), max_length=3, blank=True)
    # No index of its own: household_desa_desil_status leads with desa (one index less to maintain on bulk loads).
    desa = models.ForeignKey(
        Region,
        verbose_name=_("desa/kelurahan"),
        on_delete=models.PROTECT,
        related_name="households",
        db_index=False,
    )
    # Denormalised from ``desa`` so that region scoping is one indexed equality.
    province_code = models.CharField(_("kode provinsi"), max_length=2, editable=False)
    kabupaten_code = models.CharField(_("kode kabupaten/kota"), max_length=4, editable=False)
    kecamatan_code = models.CharField(_("kode kecamatan"), max_length=6, editable=False)

    desil = models.PositiveSmallIntegerField(
        _("desil kesejahteraan"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    persentil = models.PositiveSmallIntegerField(
        _("persentil"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    house_ownership = models.CharField(
        _("kepemilikan rumah"), max_length=20, choices=choices.HouseOwnership.choices, blank=True
    )
    roof_type = models.CharField(_("jenis atap"), max_length=30, choices=choices.RoofType.choices, blank=True)
    roof_quality = models.CharField(
        _("kualitas atap"), max_length=10, choices=choices.BuildingQuality.choices, blank=True
    )
    wall_type = models.CharField(_("jenis dinding"), max_length=30, choices=choices.WallType.choices, blank=True)
    wall_quality = models.CharField(
        _("kualitas dinding"), max_length=10, choices=choices.BuildingQuality.choices, blank=True
    )
    floor_type = models.CharField(_("jenis lantai"), max_length=30, choices=choices.FloorType.choices, blank=True)
    floor_quality = models.CharField(
        _("kualitas lantai"), max_length=10, choices=choices.BuildingQuality.choices, blank=True
    )
    lighting_source = models.CharField(
        _("sumber penerangan"), max_length=20, choices=choices.LightingSource.choices, blank=True
    )
    power_capacity = models.CharField(
        _("daya listrik"), max_length=20, choices=choices.PowerCapacity.choices, blank=True
    )
    cooking_fuel = models.CharField(
        _("bahan bakar memasak"), max_length=30, choices=choices.CookingFuel.choices, blank=True
    )
    water_source = models.CharField(
        _("sumber air minum"), max_length=30, choices=choices.WaterSource.choices, blank=True
    )
    toilet_facility = models.CharField(
        _("fasilitas BAB"), max_length=20, choices=choices.ToiletFacility.choices, blank=True
    )
    stunting_risk = models.BooleanField(_("berisiko stunting"), null=True, blank=True)
    # Set only where a source gives an extreme-poverty flag (e.g. DTSEN); P3KE's practical target is desil 1.
    extreme_poverty = models.BooleanField(_("miskin ekstrem"), null=True, blank=True)
    has_savings = models.BooleanField(_("memiliki simpanan/tabungan"), null=True, blank=True)
    has_land = models.BooleanField(_("memiliki lahan"), null=True, blank=True)
    has_vehicle = models.BooleanField(_("memiliki kendaraan bermotor"), null=True, blank=True)
    receives_bpnt = models.BooleanField(_("penerima BPNT"), null=True, blank=True)
    receives_bpum = models.BooleanField(_("penerima BPUM"), null=True, blank=True)
    receives_bst = models.BooleanField(_("penerima BST"), null=True, blank=True)
    receives_pkh = models.BooleanField(_("penerima PKH"), null=True, blank=True)
    receives_sembako = models.BooleanField(_("penerima Sembako"), null=True, blank=True)
    receives_prakerja = models.BooleanField(_("penerima Prakerja"), null=True, blank=True)
    receives_kur = models.BooleanField(_("penerima KUR"), null=True, blank=True)
    verification_priority = models.CharField(
        _("prioritas verval"), max_length=30, choices=choices.VerificationPriority.choices, blank=True
    )

    status = models.CharField(
        _("status"), max_length=12, choices=choices.HouseholdStatus.choices, default=choices.HouseholdStatus.ACTIVE
    )
    status_changed_on = models.DateField(_("tanggal perubahan status"), null=True, blank=True)
    status_reason = models.CharField(_("alasan perubahan status"), max_length=300, blank=True)
    status_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("diverifikasi oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("digabung ke"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_demo = models.BooleanField(_("data demo"), default=False, editable=False)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("keluarga")
        verbose_name_plural = _("keluarga")
        indexes = [
            models.Index(fields=["desa", "desil", "status"], name="household_desa_desil_status"),
            models.Index(fields=["kabupaten_code", "desil", "status"], name="household_kab_desil_status"),
            models.Index(fields=["kecamatan_code", "desil"], name="household_kec_desil"),
            models.Index(fields=["province_code"], name="household_province"),
            models.Index(fields=["no_kk"], name="household_no_kk"),
            models.Index(Upper("head_name"), name="household_head_name_upper"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(desil__gte=1, desil__lte=10) | Q(desil__isnull=True), name="household_desil_1_10"
            ),
            models.CheckConstraint(
                condition=Q(persentil__gte=1, persentil__lte=100) | Q(persentil__isnull=True),
                name="household_persentil_1_100",
            ),
            models.CheckConstraint(
                condition=~Q(status="graduated") | Q(status_changed_on__isnull=False),
                name="household_graduation_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False), name="household_merge_has_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.head_name} ({self.desa_id})"

    def save(self, *args: object, **kwargs: object) -> None:
        # Keep the scoping columns in step with the desa; this is data integrity, not a side effect.
        code = str(self.desa_id)
        self.province_code, self.kabupaten_code, self.kecamatan_code = code[:2], code[:4], code[:6]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def no_kk_masked(self) -> str:
        return mask_identifier(self.no_kk)

    @property
    def is_unfit_housing(self) -> bool:
        poor = choices.BuildingQuality.POOR
        return self.floor_type in choices.UNFIT_FLOOR_TYPES or poor in (
            self.roof_quality,
            self.wall_quality,
            self.floor_quality,
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.no_kk:
            check = check_no_kk(self.no_kk)
            if check.valid:
                self.no_kk = check.value
            else:
                errors["no_kk"] = str(check.error)
        if self.desa_id and len(str(self.desa_id)) != 10:
            errors["desa"] = str(_("Pilih wilayah tingkat desa/kelurahan (kode 10 digit)."))
        if self.status == choices.HouseholdStatus.GRADUATED and not self.status_changed_on:
            errors["status_changed_on"] = str(_("Tanggal graduasi wajib diisi."))
        if self.status == choices.HouseholdStatus.MERGED and not self.merged_into_id:
            errors["merged_into"] = str(_("Pilih keluarga tujuan penggabungan."))
        if errors:
            raise ValidationError(errors)


class PersonQuerySet(ScopedQuerySet["Person"]):
    def grant_q(self, grant: Grant) -> Q | None:
        household_q = Household.objects.all().grant_q(grant)
        if household_q is None:
            return None
        return Q(household__in=Household.objects.filter(household_q).values("pk"))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Person(models.Model):
    """One member of a household (individu)."""

    # Indexed by person_household_relationship, which leads with household.
    household = models.ForeignKey(
        Household, verbose_name=_("keluarga"), on_delete=models.PROTECT, related_name="members", db_index=False
    )
    name = models.CharField(_("nama"), max_length=150)
    nik = models.CharField(_("NIK"), max_length=16, null=True, blank=True)
    nik_status = models.CharField(
        _("status NIK"), max_length=20, choices=choices.NikStatus.choices, default=choices.NikStatus.MISSING
    )
    nik_note = models.CharField(_("catatan NIK"), max_length=200, blank=True)
    sex = models.CharField(_("jenis kelamin"), max_length=1, choices=choices.Sex.choices, blank=True)
    relationship = models.CharField(
        _("hubungan dengan kepala keluarga"), max_length=20, choices=choices.Relationship.choices, blank=True
    )
    birth_place = models.CharField(_("tempat lahir"), max_length=100, blank=True)
    birth_date = models.DateField(_("tanggal lahir"), null=True, blank=True)
    mother_name = models.CharField(_("nama ibu kandung"), max_length=150, blank=True)
    marital_status = models.CharField(
        _("status kawin"), max_length=15, choices=choices.MaritalStatus.choices, blank=True
    )
    occupation = models.CharField(_("pekerjaan"), max_length=100, blank=True)
    work_status = models.CharField(_("status pekerjaan"), max_length=20, choices=choices.WorkStatus.choices, blank=True)
    education = models.CharField(_("pendidikan"), max_length=20, choices=choices.Education.choices, blank=True)
    disability = models.CharField(_("disabilitas"), max_length=15, choices=choices.Disability.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=choices.PersonStatus.choices, default=choices.PersonStatus.ACTIVE
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("anggota keluarga")
        verbose_name_plural = _("anggota keluarga")
        indexes = [
            models.Index(fields=["nik"], name="person_nik"),
            models.Index(fields=["household", "relationship"], name="person_household_relationship"),
            models.Index(Upper("name"), "birth_date", name="person_name_birth"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(nik__isnull=True) | Q(nik__regex=r"^[0-9]{16}$"), name="person_nik_16_digits"
            ),
            models.CheckConstraint(
                condition=~Q(nik_status="valid") | Q(nik__isnull=False), name="person_valid_nik_present"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def nik_masked(self) -> str:
        return mask_identifier(self.nik)

    def clean(self) -> None:
        if self.nik:
            check = check_nik(self.nik)
            if not check.valid:
                raise ValidationError({"nik": check.error})
            self.nik = check.value
            self.nik_status = choices.NikStatus.VALID
            self.nik_note = ""
        elif self.nik_status == choices.NikStatus.VALID:
            self.nik_status = choices.NikStatus.MISSING


class SourceLinkBase(models.Model):
    """Provenance: which snapshot and row a record came from, its id there and the raw row as read.

    The foreign keys carry no index of their own: source leads the unique (source, external_id) index, the
    owner leads (owner, source), and links are never looked up by snapshot (a snapshot is only deleted, if
    ever, by an administrator; PROTECT then scans). Each index less is a write less per row on bulk imports.
    """

    source = models.ForeignKey(
        Source, verbose_name=_("sumber"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    snapshot = models.ForeignKey(
        Snapshot, verbose_name=_("snapshot terakhir"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    external_id = models.CharField(_("ID di sumber"), max_length=64)
    row_number = models.PositiveIntegerField(_("nomor baris"), null=True, blank=True)
    raw = models.JSONField(_("baris asli"), default=dict, blank=True)
    first_seen = models.ForeignKey(
        Snapshot,
        verbose_name=_("pertama muncul di"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    is_present = models.BooleanField(
        _("ada di snapshot terakhir"),
        default=True,
        help_text=_("Tidak ada lagi di snapshot terbaru: ditandai, tidak dihapus."),
    )
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    class Meta:
        abstract = True


class HouseholdSourceLinkQuerySet(ScopedQuerySet["HouseholdSourceLink"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.OPD_OFFICER):
            return region_q(grant, "household__")
        return None


class HouseholdSourceLink(SourceLinkBase):
    household = models.ForeignKey(
        Household, verbose_name=_("keluarga"), on_delete=models.CASCADE, related_name="source_links", db_index=False
    )
    # The desil according to this source (P3KE 1-4, DTSEN 1-10); Household.desil is the registry's value.
    # Kept per source so disagreements between sources can be reported instead of overwritten.
    desil = models.PositiveSmallIntegerField(_("desil menurut sumber"), null=True, blank=True)

    objects = HouseholdSourceLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("asal data keluarga")
        verbose_name_plural = _("asal data keluarga")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="household_link_external_id_unique")
        ]
        indexes = [
            models.Index(fields=["household", "source"], name="household_link_household"),
            # Registry search by an ID Keluarga without knowing its source.
            models.Index(fields=["external_id"], name="household_link_external_id"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id.upper()}:{self.external_id}"


class PersonSourceLinkQuerySet(ScopedQuerySet["PersonSourceLink"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.OPD_OFFICER):
            return region_q(grant, "person__household__")
        return None


class PersonSourceLink(SourceLinkBase):
    person = models.ForeignKey(
        Person, verbose_name=_("anggota"), on_delete=models.CASCADE, related_name="source_links", db_index=False
    )

    objects = PersonSourceLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("asal data anggota")
        verbose_name_plural = _("asal data anggota")
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="person_link_external_id_unique")]
        indexes = [
            models.Index(fields=["person", "source"], name="person_link_person"),
            models.Index(fields=["external_id"], name="person_link_external_id"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id.upper()}:{self.external_id}"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Diunggah (menunggu konfirmasi)")
    QUEUED = "queued", _("Dalam antrean")
    RUNNING = "running", _("Sedang berjalan")
    SUCCEEDED = "succeeded", _("Selesai")
    FAILED = "failed", _("Gagal")
    CANCELLED = "cancelled", _("Dibatalkan")


class ImportKind(models.TextChoices):
    """What a job feeds: the household registry (P3KE/DTKS/DTSEN) or a program's interventions."""

    REGISTRY = "registry", _("Registri keluarga")
    INTERVENTIONS = "interventions", _("Penyaluran program")
    VERVAL = "verval", _("Hasil verifikasi lapangan (verval)")
    CSR_ALLOCATION = "csr_allocation", _("Alokasi sasaran CSR")


class ImportJobQuerySet(ScopedQuerySet["ImportJob"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(region__code__startswith=grant.region_code)
        if grant.role in (Role.OPD_OFFICER, Role.PARTNER):
            # Agencies and partners: the intervention uploads of their own organization's programs.
            return Q(kind=ImportKind.INTERVENTIONS, program__organization_id=grant.organization_id)
        return None


class ImportJob(models.Model):
    """One bulk import (a source's snapshot): who, which files, status, progress, counts, duration."""

    kind = models.CharField(
        _("jenis impor"), max_length=16, choices=ImportKind.choices, default=ImportKind.REGISTRY, db_index=True
    )
    # Registry imports only (an intervention upload feeds no source).
    source = models.ForeignKey(
        Source, verbose_name=_("sumber"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Intervention uploads only: the program the rows are deliveries of.
    program = models.ForeignKey(
        "programs.Program",
        verbose_name=_("program"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Per-kind choices of the uploader, e.g. {"all_or_nothing": true} for intervention uploads.
    options = models.JSONField(_("pilihan"), default=dict, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("wilayah TKPK"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Wilayah sekretariat yang mengimpor; baris di luar wilayah ini ditolak."),
    )
    snapshot = models.ForeignKey(
        Snapshot, verbose_name=_("snapshot"), null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    snapshot_label = models.CharField(_("label snapshot"), max_length=100)
    snapshot_date = models.DateField(_("tanggal data"))
    dry_run = models.BooleanField(_("uji coba (tanpa menulis)"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED, db_index=True
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("berkas sama dengan impor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rows_total = models.PositiveIntegerField(_("jumlah baris"), default=0)
    rows_done = models.PositiveIntegerField(_("baris diproses"), default=0)
    summary = models.JSONField(_("ringkasan"), default=dict, blank=True)
    preview = models.JSONField(_("pratinjau"), default=dict, blank=True)
    error_count = models.PositiveIntegerField(_("baris ditolak"), default=0)
    warning_count = models.PositiveIntegerField(_("peringatan"), default=0)
    message = models.TextField(_("pesan"), blank=True)
    task_id = models.CharField(_("ID tugas"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("diimpor oleh"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    started_at = models.DateTimeField(_("mulai"), null=True, blank=True)
    finished_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("tanda hidup terakhir"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("pekerjaan impor")
        verbose_name_plural = _("pekerjaan impor")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="registry", source__isnull=False)
                | Q(kind="interventions", program__isnull=False)
                | Q(kind="verval", source__isnull=True, program__isnull=True)
                | Q(kind="csr_allocation", source__isnull=True, program__isnull=True),
                name="import_job_kind_target",
            )
        ]

    def __str__(self) -> str:
        what = self.source_id.upper() if self.source_id else str(self.get_kind_display())
        return f"#{self.pk} {what} {self.snapshot_label}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 100 if self.status == ImportStatus.SUCCEEDED else 0
        return min(100, round(100 * self.rows_done / self.rows_total))


class ImportFile(models.Model):
    """One uploaded file of a job (P3KE: the family file and the person file; DTKS/DTSEN: one file)."""

    job = models.ForeignKey(
        ImportJob, verbose_name=_("pekerjaan impor"), on_delete=models.CASCADE, related_name="files"
    )
    kind = models.CharField(_("jenis berkas"), max_length=10)  # importing.types.FileKind
    file = models.FileField(_("berkas"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("nama berkas asli"), max_length=255)
    size = models.PositiveBigIntegerField(_("ukuran (byte)"), default=0)
    sha256 = models.CharField(_("checksum SHA-256"), max_length=64, db_index=True)
    header_row = models.PositiveIntegerField(_("baris judul kolom"), null=True, blank=True)
    mapping = models.JSONField(_("pemetaan kolom"), default=dict, blank=True)

    class Meta:
        verbose_name = _("berkas impor")
        verbose_name_plural = _("berkas impor")
        constraints = [models.UniqueConstraint(fields=["job", "kind"], name="import_file_one_per_kind")]

    def __str__(self) -> str:
        return self.original_name


class RowError(models.Model):
    """A rejected row or a repaired/suspicious value, downloadable as the job's error report."""

    job = models.ForeignKey(
        ImportJob, verbose_name=_("pekerjaan impor"), on_delete=models.CASCADE, related_name="row_errors"
    )
    file = models.CharField(_("berkas"), max_length=10)
    row_number = models.PositiveIntegerField(_("nomor baris"))
    column = models.CharField(_("kolom"), max_length=120, blank=True)
    value = models.CharField(_("nilai"), max_length=300, blank=True)
    code = models.CharField(_("kode"), max_length=40)
    message = models.CharField(_("pesan"), max_length=500)
    severity = models.CharField(_("tingkat"), max_length=8, default="error")

    class Meta:
        verbose_name = _("kesalahan baris")
        verbose_name_plural = _("kesalahan baris")
        indexes = [models.Index(fields=["job", "file", "row_number"], name="row_error_job_row")]

    def __str__(self) -> str:
        return f"{self.file}:{self.row_number} {self.column} {self.code}"


class LinkageReviewQuerySet(ScopedQuerySet["LinkageReview"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return Q(job__region__code__startswith=grant.region_code)
        return None


class LinkageReview(models.Model):
    """A record of a second source that could not be matched with certainty: never merged silently."""

    class Reason(models.TextChoices):
        NO_MATCH = "no_match", _("Tidak ditemukan padanan")
        AMBIGUOUS = "ambiguous", _("Lebih dari satu kandidat")
        CONFLICT = "conflict", _("Anggota cocok ke keluarga berbeda")

    job = models.ForeignKey(
        ImportJob, verbose_name=_("pekerjaan impor"), on_delete=models.CASCADE, related_name="reviews"
    )
    source = models.ForeignKey(Source, verbose_name=_("sumber"), on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(_("ID di sumber"), max_length=64)
    row_number = models.PositiveIntegerField(_("nomor baris"))
    reason = models.CharField(_("alasan"), max_length=12, choices=Reason.choices)
    candidates = models.JSONField(_("kandidat"), default=list, blank=True)  # [{"person": id, "household": id}]
    raw = models.JSONField(_("baris asli"), default=dict, blank=True)
    resolved = models.BooleanField(_("sudah ditinjau"), default=False)

    objects = LinkageReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("tinjauan pemadanan")
        verbose_name_plural = _("tinjauan pemadanan")

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id} {self.reason}"


class GraduationQuerySet(ScopedQuerySet["Graduation"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.OPD_OFFICER):
            return region_q(grant, "household__")
        return None

    def aggregate_grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.LEADERSHIP:
            return region_q(grant, "household__")
        return self.grant_q(grant)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Graduation(models.Model):
    """The secretariat's verification that a household is no longer poor (graduasi), one row per decision.

    Setting it also sets the household's status to graduated (``households.services.household_graduate``);
    a later reversal keeps this row with ``revoked_on`` so the year's count can be reproduced.
    """

    household = models.ForeignKey(
        Household, verbose_name=_("keluarga"), on_delete=models.PROTECT, related_name="graduations"
    )
    graduated_on = models.DateField(_("tanggal graduasi"))
    reason = models.CharField(_("alasan"), max_length=300)
    evidence = models.FileField(_("bukti"), upload_to="graduation/%Y/%m/", blank=True)
    evidence_note = models.CharField(_("keterangan bukti"), max_length=300, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("diverifikasi oleh"), null=True, on_delete=models.SET_NULL
    )
    import_job = models.ForeignKey(
        ImportJob,
        verbose_name=_("dari impor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="graduations",
    )
    revoked_on = models.DateField(_("dibatalkan"), null=True, blank=True)
    created_at = models.DateTimeField(_("dicatat"), auto_now_add=True)

    objects = GraduationQuerySet.as_manager()

    class Meta:
        verbose_name = _("graduasi")
        verbose_name_plural = _("graduasi")
        ordering = ["-graduated_on", "-id"]
        indexes = [models.Index(fields=["graduated_on"], name="graduation_date")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.graduated_on}"
