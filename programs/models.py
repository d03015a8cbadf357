"""OPD and partner programs, the interventions they deliver to households, and semester activity reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tkpk.models import Organization, Region
from tkpk.scoping import Grant, Role, ScopedQuerySet, region_q


class ReferenceItem(models.Model):
    """An editable code list row (seeded by migration, extended by the secretariat in the admin)."""

    code = models.SlugField(_("kode"), max_length=40, unique=True)
    name = models.CharField(_("nama"), max_length=150)
    description = models.TextField(_("keterangan"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("urutan"), default=0)
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class ProgramCluster(ReferenceItem):
    """Permendagri 53/2020 program clusters (klaster 1-3)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("klaster program")
        verbose_name_plural = _("klaster program")


class ProgramStrategy(ReferenceItem):
    """Poverty-reduction strategies (reduce spending, raise income, reduce poverty pockets, ...)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("strategi penanggulangan kemiskinan")
        verbose_name_plural = _("strategi penanggulangan kemiskinan")


class AssistanceKind(ReferenceItem):
    """What a household receives (food aid, cash, RTLH, business capital, ...)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("jenis bantuan")
        verbose_name_plural = _("jenis bantuan")


class FundingSource(models.TextChoices):
    APBD = "apbd", _("APBD")
    APBN = "apbn", _("APBN")
    APBDES = "apbdes", _("APBDes/Dana Desa")
    CSR = "csr", _("CSR/TJSL")
    BAZNAS = "baznas", _("BAZNAS")
    OTHER = "other", _("Lainnya")


class OutsideRegionPolicy(models.TextChoices):
    WARN = "warn", _("Terima dengan peringatan")
    REFUSE = "refuse", _("Tolak")


class ProgramQuerySet(ScopedQuerySet["Program"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.LEADERSHIP):
            # Programs of the region and of every region below it (a province sees its kabupaten).
            return Q(region__code__startswith=grant.region_code)
        # Agencies and partners: their own organization's programs only.
        return Q(organization_id=grant.organization_id)

    def for_year(self, year: int) -> ProgramQuerySet:
        return self.filter(year=year)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Program(models.Model):
    organization = models.ForeignKey(
        Organization, verbose_name=_("pelaksana (OPD/mitra)"), on_delete=models.PROTECT, related_name="programs"
    )
    # The TKPK region the program belongs to (the owner's region); scoping reads it.
    region = models.ForeignKey(
        Region, verbose_name=_("wilayah TKPK"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    code = models.SlugField(
        _("kode program"), max_length=40, help_text=_("Unik per tahun, dipakai saat mengunggah intervensi.")
    )
    name = models.CharField(_("nama program"), max_length=200)
    year = models.PositiveSmallIntegerField(
        _("tahun"), validators=[MinValueValidator(2000), MaxValueValidator(2100)], db_index=True
    )
    cluster = models.ForeignKey(ProgramCluster, verbose_name=_("klaster"), on_delete=models.PROTECT, related_name="+")
    strategy = models.ForeignKey(
        ProgramStrategy, verbose_name=_("strategi"), on_delete=models.PROTECT, related_name="+"
    )
    assistance_kind = models.ForeignKey(
        AssistanceKind, verbose_name=_("jenis bantuan"), on_delete=models.PROTECT, related_name="+"
    )
    funding_source = models.CharField(_("sumber dana"), max_length=10, choices=FundingSource.choices)
    budget = models.DecimalField(
        _("pagu anggaran (Rp)"), max_digits=16, decimal_places=0, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    unit_value = models.DecimalField(
        _("nilai per keluarga (Rp)"),
        max_digits=14,
        decimal_places=0,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Nilai bawaan saat mencatat penyaluran."),
    )
    target_households = models.PositiveIntegerField(_("target keluarga"), default=0)
    target_regions = models.ManyToManyField(
        Region,
        verbose_name=_("wilayah sasaran"),
        blank=True,
        related_name="+",
        help_text=_("Kosong = seluruh wilayah TKPK. Kecamatan atau desa sasaran."),
    )
    outside_region_policy = models.CharField(
        _("keluarga di luar wilayah sasaran"),
        max_length=10,
        choices=OutsideRegionPolicy.choices,
        default=OutsideRegionPolicy.WARN,
    )
    max_desil = models.PositiveSmallIntegerField(
        _("desil maksimum"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("Keluarga dengan desil di atas ini tidak memenuhi syarat. Kosong = tanpa batas."),
    )
    eligibility_note = models.TextField(_("syarat lain"), blank=True)
    starts_on = models.DateField(_("tanggal mulai"))
    ends_on = models.DateField(_("tanggal selesai"))
    once_per_year = models.BooleanField(
        _("sekali per tahun per keluarga"),
        default=True,
        help_text=_("Jika dicentang, keluarga yang sama tidak dapat menerima program ini dua kali dalam setahun."),
    )
    description = models.TextField(_("uraian"), blank=True)
    is_active = models.BooleanField(_("aktif"), default=True)
    is_demo = models.BooleanField(_("data demo"), default=False, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dibuat oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("program")
        ordering = ["-year", "code"]
        constraints = [
            models.UniqueConstraint(fields=["year", "code"], name="program_code_unique_per_year"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="program_period_order"),
            models.CheckConstraint(
                condition=Q(max_desil__isnull=True) | Q(max_desil__gte=1, max_desil__lte=10),
                name="program_max_desil_1_10",
            ),
        ]
        indexes = [models.Index(fields=["organization", "year"], name="program_org_year")]

    def __str__(self) -> str:
        return f"{self.code} {self.name} ({self.year})"

    def save(self, *args: object, **kwargs: object) -> None:
        # The program lives in its owner's TKPK region (data integrity for scoping, not a side effect).
        if self.organization_id and not self.region_id:
            self.region_id = Organization.objects.values_list("region_id", flat=True).get(pk=self.organization_id)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = str(_("Tanggal selesai tidak boleh sebelum tanggal mulai."))
        if self.year and self.starts_on and self.starts_on.year != self.year and self.ends_on.year != self.year:
            errors["starts_on"] = str(_("Periode program harus mencakup tahun program."))
        if errors:
            raise ValidationError(errors)

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return self.starts_on, self.ends_on


class InterventionStatus(models.TextChoices):
    PLANNED = "planned", _("Direncanakan")
    DELIVERED = "delivered", _("Tersalurkan")
    CANCELLED = "cancelled", _("Dibatalkan")


class EntryChannel(models.TextChoices):
    FORM = "form", _("Formulir")
    SPREADSHEET = "spreadsheet", _("Spreadsheet")
    API = "api", _("API")
    CSR = "csr", _("Portal CSR")


class InterventionQuerySet(ScopedQuerySet["Intervention"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.SECRETARIAT:
            return region_q(grant)
        if grant.role in (Role.OPD_OFFICER, Role.PARTNER):
            return Q(organization_id=grant.organization_id)
        return None

    def aggregate_grant_q(self, grant: Grant) -> Q | None:
        if grant.role == Role.LEADERSHIP:
            return region_q(grant)
        return self.grant_q(grant)

    def effective(self) -> InterventionQuerySet:
        """Not cancelled (planned or delivered)."""
        return self.exclude(status=InterventionStatus.CANCELLED)

    def delivered(self) -> InterventionQuerySet:
        return self.filter(status=InterventionStatus.DELIVERED)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Intervention(models.Model):
    """One delivery (or planned delivery) of a program to a household."""

    # No FK index of its own: intervention_program_recent leads with program.
    program = models.ForeignKey(
        Program, verbose_name=_("program"), on_delete=models.PROTECT, related_name="interventions", db_index=False
    )
    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("keluarga"),
        on_delete=models.PROTECT,
        related_name="interventions",
        db_index=False,  # intervention_household_year leads with household
    )
    person = models.ForeignKey(
        "households.Person",
        verbose_name=_("anggota keluarga penerima"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    delivered_on = models.DateField(_("tanggal penyaluran"))
    # Copied from the program / delivery date so the duplicate guard is one partial unique index.
    period_year = models.PositiveSmallIntegerField(_("tahun penyaluran"), editable=False)
    once_per_period = models.BooleanField(_("sekali per tahun"), default=True, editable=False)
    value = models.DecimalField(
        _("nilai (Rp)"), max_digits=14, decimal_places=0, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    quantity = models.DecimalField(
        _("jumlah"), max_digits=10, decimal_places=2, default=Decimal(1), validators=[MinValueValidator(0)]
    )
    status = models.CharField(
        _("status"), max_length=10, choices=InterventionStatus.choices, default=InterventionStatus.DELIVERED
    )
    cancel_reason = models.CharField(_("alasan pembatalan"), max_length=300, blank=True)
    note = models.CharField(_("keterangan"), max_length=500, blank=True)
    channel = models.CharField(_("saluran input"), max_length=12, choices=EntryChannel.choices)
    evidence = models.FileField(_("bukti penyaluran"), upload_to="evidence/%Y/%m/", blank=True)
    import_job = models.ForeignKey(
        "households.ImportJob",
        verbose_name=_("pekerjaan impor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Denormalised so scoping and realisation roll-ups are indexed equalities without joins.
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("pelaksana"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,  # intervention_org_year leads with organization
    )
    province_code = models.CharField(_("kode provinsi"), max_length=2, editable=False)
    kabupaten_code = models.CharField(_("kode kabupaten/kota"), max_length=4, editable=False)
    kecamatan_code = models.CharField(_("kode kecamatan"), max_length=6, editable=False)
    desa_id = models.CharField(_("kode desa"), max_length=10, editable=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dicatat oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("dicatat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    objects = InterventionQuerySet.as_manager()

    class Meta:
        verbose_name = _("intervensi")
        verbose_name_plural = _("intervensi")
        ordering = ["-delivered_on", "-id"]
        constraints = [
            # The duplicate guard: one effective delivery per program, household and year when the program
            # is once-per-year. Cancelled records do not count.
            models.UniqueConstraint(
                fields=["program", "household", "period_year"],
                condition=Q(once_per_period=True) & ~Q(status="cancelled"),
                name="intervention_once_per_period",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""), name="intervention_cancel_has_reason"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="intervention_value_not_negative"),
        ]
        # Few indexes: each costs ~1 s per 100k-row upload. Realisation is precomputed (ProgramRealisation), so
        # no (program, status, kecamatan) index is needed for the pages.
        indexes = [
            # The program page lists a program's interventions newest first, 25 at a time.
            models.Index(fields=["program", "-delivered_on", "-id"], name="intervention_program_recent"),
            models.Index(fields=["household", "period_year"], name="intervention_household_year"),
            models.Index(fields=["kabupaten_code", "period_year", "status"], name="intervention_kab_year"),
            models.Index(fields=["organization", "period_year"], name="intervention_org_year"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}/{self.household_id} {self.delivered_on}"

    def save(self, *args: object, **kwargs: object) -> None:
        # Keep the denormalised columns in step (data integrity, like Household.save).
        if self.delivered_on:
            self.period_year = self.delivered_on.year
        desa = str(self.household.desa_id)
        self.desa_id = desa
        self.province_code, self.kabupaten_code, self.kecamatan_code = desa[:2], desa[:4], desa[:6]
        program = self.program
        self.organization_id = program.organization_id
        self.once_per_period = program.once_per_year
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class PeriodKind(models.TextChoices):
    SEMESTER = "semester", _("Semester")
    QUARTER = "quarter", _("Triwulan")


class ActivityReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draf")
    SUBMITTED = "submitted", _("Diajukan")
    ACCEPTED = "accepted", _("Diterima")
    RETURNED = "returned", _("Dikembalikan")


class ActivityReportQuerySet(ScopedQuerySet["ActivityReport"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.LEADERSHIP):
            return Q(region__code__startswith=grant.region_code)
        return Q(organization_id=grant.organization_id)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class ActivityReport(models.Model):
    """An organization's report to the secretariat for one period (semester by default)."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organisasi"), on_delete=models.PROTECT, related_name="activity_reports"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("wilayah TKPK"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    period_kind = models.CharField(_("jenis periode"), max_length=10, choices=PeriodKind.choices)
    period_year = models.PositiveSmallIntegerField(_("tahun"))
    period_number = models.PositiveSmallIntegerField(
        _("periode ke"), validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    figures = models.JSONField(_("capaian per program"), default=list, blank=True)
    narrative = models.TextField(_("uraian kegiatan"), blank=True)
    obstacles = models.TextField(_("kendala"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ActivityReportStatus.choices, default=ActivityReportStatus.DRAFT
    )
    review_note = models.TextField(_("catatan sekretariat"), blank=True)
    submitted_at = models.DateTimeField(_("diajukan"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("diajukan oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("ditinjau"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ditinjau oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    figures_updated_at = models.DateTimeField(_("angka diperbarui"), null=True, blank=True)
    # Every status change in order: {"status", "at" (ISO), "by" (user id), "by_name", "note"}; the detail
    # page's timeline (kept on the row so it reads the same on SQLite, where pghistory has no triggers).
    status_log = models.JSONField(_("riwayat status"), default=list, blank=True, editable=False)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    objects = ActivityReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("laporan kegiatan")
        verbose_name_plural = _("laporan kegiatan")
        ordering = ["-period_year", "-period_number", "organization__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period_kind", "period_year", "period_number"],
                name="activity_report_one_per_period",
            ),
            models.CheckConstraint(
                condition=Q(period_kind="quarter") | Q(period_number__lte=2), name="activity_report_semester_1_2"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.period_label}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.organization_id and not self.region_id:
            self.region_id = Organization.objects.values_list("region_id", flat=True).get(pk=self.organization_id)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def period_label(self) -> str:
        kind = _("Semester") if self.period_kind == PeriodKind.SEMESTER else _("Triwulan")
        return f"{kind} {self.period_number} {self.period_year}"


class ProgramRealisation(models.Model):
    """Precomputed realisation of a program: interventions, distinct households and value per kecamatan and
    status; ``kecamatan_code`` "" holds the program's totals (households distinct over the whole program).

    Rewritten for the programs concerned by ``programs.realisation.program_realisation_refresh`` in the same
    transaction as every write of interventions, so program pages read a few rows instead of aggregating
    100k interventions. Read only through an already scoped Program.
    """

    program = models.ForeignKey(
        Program, verbose_name=_("program"), on_delete=models.CASCADE, related_name="realisation_rows"
    )
    kecamatan_code = models.CharField(_("kode kecamatan"), max_length=6, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=InterventionStatus.choices)
    households = models.PositiveIntegerField(_("keluarga"), default=0)
    interventions = models.PositiveIntegerField(_("intervensi"), default=0)
    value = models.DecimalField(_("nilai (Rp)"), max_digits=18, decimal_places=0, default=Decimal(0))

    class Meta:
        verbose_name = _("realisasi program")
        verbose_name_plural = _("realisasi program")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "kecamatan_code", "status"], name="program_realisation_unique_row"
            )
        ]

    def __str__(self) -> str:
        return f"{self.program_id} {self.kecamatan_code or '*'} {self.status}"
