"""Coverage-gap engine data: need rules (editable data), runs, per-household facts, per-region summaries,
region poverty targets and map boundaries.

``GapHouseholdFact`` and ``GapSummary`` are derived tables: ``reports.engine`` replaces them set-based in one
transaction per run, so pages read precomputed rows and a past run's totals stay in ``GapRun.totals``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tkpk.scoping import Grant, Role, ScopedQuerySet


class NeedCondition(models.TextChoices):
    """How a need rule picks households; each maps to one SQL condition in ``reports.engine``."""

    PRODUCTIVE_MEMBER = "productive_member", _("Ada anggota usia produktif yang tidak bersekolah")
    NO_PRODUCTIVE_MEMBER = "no_productive_member", _("Tidak ada anggota usia produktif (lansia/anak saja)")
    UNFIT_HOUSING = "unfit_housing", _("Rumah tidak layak huni (atap/dinding/lantai)")


class NeedRule(models.Model):
    """A need a household has, decided by a condition, met by interventions of the given assistance kinds."""

    code = models.SlugField(_("kode"), max_length=40, unique=True)
    name = models.CharField(_("nama kebutuhan"), max_length=150)
    condition = models.CharField(_("kondisi"), max_length=30, choices=NeedCondition.choices)
    min_age = models.PositiveSmallIntegerField(_("usia minimal"), default=15)
    max_age = models.PositiveSmallIntegerField(_("usia maksimal"), default=59)
    school_occupations = models.CharField(
        _("pekerjaan yang berarti masih sekolah"),
        max_length=300,
        blank=True,
        default="PELAJAR/MAHASISWA",
        help_text=_("Dipisah koma; anggota dengan pekerjaan ini dianggap masih bersekolah."),
    )
    assistance_kinds = models.ManyToManyField(
        "programs.AssistanceKind",
        verbose_name=_("jenis bantuan yang memenuhi"),
        related_name="need_rules",
    )
    sort_order = models.PositiveSmallIntegerField(
        _("urutan prioritas"), default=0, help_text=_("Kebutuhan dengan urutan lebih kecil ditangani lebih dulu.")
    )
    is_active = models.BooleanField(_("aktif"), default=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    class Meta:
        verbose_name = _("aturan kebutuhan")
        verbose_name_plural = _("aturan kebutuhan")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(min_age__lte=models.F("max_age")), name="need_rule_age_range")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def school_occupation_list(self) -> list[str]:
        return [s.strip().upper() for s in self.school_occupations.split(",") if s.strip()]


class GapRunStatus(models.TextChoices):
    QUEUED = "queued", _("Menunggu")
    RUNNING = "running", _("Berjalan")
    DONE = "done", _("Selesai")
    FAILED = "failed", _("Gagal")


class GapTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Terjadwal (malam)")
    MANUAL = "manual", _("Tombol sekretariat")
    IMPORT = "import", _("Setelah impor/unggah")
    COMMAND = "command", _("Perintah baris")


class GapRunQuerySet(ScopedQuerySet["GapRun"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.LEADERSHIP, Role.OPD_OFFICER):
            # A run over a wider area (the whole registry, the province) also shows the grant's figures.
            code = grant.region_code
            return Q(region_code__startswith=code) | Q(
                region_code__in=[code[:n] for n in (0, 2, 4, 6) if n < len(code)]
            )
        return None


class GapRun(models.Model):
    """One computation of the gap figures for a year over a region ('' = the whole registry)."""

    year = models.PositiveSmallIntegerField(_("tahun"))
    region_code = models.CharField(_("kode wilayah"), max_length=10, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=GapRunStatus.choices, default=GapRunStatus.QUEUED)
    trigger = models.CharField(_("pemicu"), max_length=10, choices=GapTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("diminta oleh"), null=True, blank=True, on_delete=models.SET_NULL
    )
    requested_at = models.DateTimeField(_("diminta"), auto_now_add=True)
    started_at = models.DateTimeField(_("mulai"), null=True, blank=True)
    finished_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("kemajuan (%)"), default=0)
    step = models.CharField(_("tahap"), max_length=120, blank=True)
    # [{"source": "p3ke", "snapshot_id": 3, "label": "...", "taken_on": "2026-01-31"}, ...]
    sources = models.JSONField(_("snapshot sumber"), default=list, blank=True)
    totals = models.JSONField(_("total"), default=dict, blank=True)
    message = models.TextField(_("pesan"), blank=True)
    task_id = models.CharField(_("ID tugas"), max_length=64, blank=True)

    objects = GapRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("perhitungan kesenjangan")
        verbose_name_plural = _("perhitungan kesenjangan")
        ordering = ["-requested_at", "-id"]
        constraints = [
            # Coalescing: at most one waiting run per region and year; later requests join it.
            models.UniqueConstraint(
                fields=["year", "region_code"], condition=Q(status="queued"), name="gap_run_one_queued_per_region_year"
            )
        ]
        indexes = [models.Index(fields=["year", "status", "finished_at"], name="gap_run_year_status")]

    def __str__(self) -> str:
        return f"{self.year} {self.region_code or '*'} ({self.get_status_display()})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def sources_for(self, region: str = "") -> list[dict[str, Any]]:
        """The snapshots this run used that concern ``region`` (a whole-registry run used every region's)."""
        if not region:
            return list(self.sources)
        return [
            s
            for s in self.sources
            if not s.get("region") or s["region"].startswith(region) or region.startswith(s["region"])
        ]

    def sources_label_for(self, region: str = "") -> str:
        return (
            ", ".join(f"{s['source'].upper()} {s['label']} ({s['taken_on']})" for s in self.sources_for(region)) or "-"
        )

    @property
    def sources_label(self) -> str:
        return self.sources_label_for("")


class GapYearLock(models.Model):
    """One row per year, locked (SELECT … FOR UPDATE) by a running computation so two never overlap."""

    year = models.PositiveSmallIntegerField(primary_key=True)

    class Meta:
        verbose_name = _("kunci perhitungan")
        verbose_name_plural = _("kunci perhitungan")

    def __str__(self) -> str:
        return str(self.year)


class GapHouseholdFactQuerySet(ScopedQuerySet["GapHouseholdFact"]):
    def grant_q(self, grant: Grant) -> Q | None:
        from households.models import Household

        condition = Household.objects.grant_q(grant)
        if condition is None:
            return None
        return Q(household__in=Household.objects.filter(condition).values("pk"))


class GapHouseholdFact(models.Model):
    """What the engine found for one household in one year (active households of the computed region).

    Code lists are stored as ``,code,code,`` so both PostgreSQL and SQLite filter them with LIKE.
    """

    year = models.PositiveSmallIntegerField(_("tahun"))
    # Derived rows written a million at a time: no FK constraints (each would cost a lookup per row); the
    # ORM still cascades deletes, and every computation rewrites the facts of its region.
    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("keluarga"),
        on_delete=models.CASCADE,
        related_name="gap_facts",
        db_constraint=False,
        db_index=False,
    )
    run = models.ForeignKey(
        GapRun,
        verbose_name=_("perhitungan"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    province_code = models.CharField(max_length=2)
    kabupaten_code = models.CharField(max_length=4)
    kecamatan_code = models.CharField(max_length=6)
    desa_id = models.CharField(max_length=10)
    desil = models.PositiveSmallIntegerField(null=True)
    extreme_poor = models.BooleanField(default=False)
    covered = models.BooleanField(_("terjangkau"), default=False)
    program_count = models.PositiveSmallIntegerField(default=0)
    overlap = models.BooleanField(_("tumpang tindih"), default=False)
    kinds = models.CharField(_("jenis bantuan diterima"), max_length=400, blank=True)
    clusters = models.CharField(max_length=200, blank=True)
    needs = models.CharField(_("kebutuhan"), max_length=300, blank=True)
    unmet_needs = models.CharField(_("kebutuhan belum terpenuhi"), max_length=300, blank=True)
    no_nik = models.BooleanField(_("tanpa NIK"), default=False)
    nik_unverified = models.BooleanField(_("NIK perlu verifikasi"), default=False)
    not_in_latest = models.BooleanField(_("tidak ada di snapshot terbaru"), default=False)
    member_moved = models.BooleanField(_("ada anggota pindah"), default=False)

    objects = GapHouseholdFactQuerySet.as_manager()

    class Meta:
        verbose_name = _("fakta kesenjangan keluarga")
        verbose_name_plural = _("fakta kesenjangan keluarga")
        constraints = [models.UniqueConstraint(fields=["household", "year"], name="gap_fact_once_per_year")]
        indexes = [
            models.Index(fields=["year", "desa_id", "desil", "covered"], name="gap_fact_desa"),
            models.Index(fields=["year", "kecamatan_code", "desil", "covered"], name="gap_fact_kec"),
            # Also serves the paged lists of a kabupaten in id order (keyset paging of the API).
            models.Index(fields=["year", "kabupaten_code", "id"], name="gap_fact_kab_id"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.year}"

    @property
    def reason_codes(self) -> list[str]:
        return [f for f in ("no_nik", "nik_unverified", "not_in_latest", "member_moved") if getattr(self, f)]


class GapSummaryQuerySet(ScopedQuerySet["GapSummary"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.LEADERSHIP, Role.OPD_OFFICER):
            return Q(region_code__startswith=grant.region_code)
        return None


class GapSummary(models.Model):
    """Figures of one region (desa, kecamatan, kabupaten/kota or province) for one year.

    Every level is summed from the same household facts, so desa rows add up to their kecamatan exactly.
    """

    year = models.PositiveSmallIntegerField(_("tahun"))
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    level = models.PositiveSmallIntegerField(_("tingkat"))  # 1 province … 4 desa
    parent_code = models.CharField(max_length=10, blank=True)
    run = models.ForeignKey(GapRun, verbose_name=_("perhitungan"), on_delete=models.PROTECT, related_name="+")
    households = models.PositiveIntegerField(_("keluarga aktif"), default=0)
    desil1 = models.PositiveIntegerField(default=0)
    desil1_uncovered = models.PositiveIntegerField(default=0)
    desil1_4 = models.PositiveIntegerField(default=0)
    desil1_4_uncovered = models.PositiveIntegerField(default=0)
    extreme = models.PositiveIntegerField(default=0)
    extreme_uncovered = models.PositiveIntegerField(default=0)
    covered = models.PositiveIntegerField(default=0)
    overlap = models.PositiveIntegerField(default=0)
    graduated = models.PositiveIntegerField(default=0)
    unmet_any = models.PositiveIntegerField(default=0)
    by_desil = models.JSONField(default=dict)  # {"1": n, …, "10": n, "": unknown}
    needs = models.JSONField(default=dict)  # {rule_code: households with the need}
    unmet_need = models.JSONField(default=dict)  # {rule_code: households with the need unmet}
    covered_by_kind = models.JSONField(default=dict)  # {kind_code: households covered by that kind}
    covered_by_cluster = models.JSONField(default=dict)
    convergence = models.JSONField(default=dict)  # {"modal-usaha+pelatihan+rtlh": households}

    objects = GapSummaryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ringkasan kesenjangan")
        verbose_name_plural = _("ringkasan kesenjangan")
        constraints = [models.UniqueConstraint(fields=["year", "region_code"], name="gap_summary_once_per_region")]
        indexes = [models.Index(fields=["year", "parent_code"], name="gap_summary_parent")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.year}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "households": self.households,
            "desil1": self.desil1,
            "desil1_uncovered": self.desil1_uncovered,
            "desil1_4": self.desil1_4,
            "desil1_4_uncovered": self.desil1_4_uncovered,
            "extreme": self.extreme,
            "extreme_uncovered": self.extreme_uncovered,
            "covered": self.covered,
            "overlap": self.overlap,
            "unmet_need": dict(self.unmet_need),
            "graduated": self.graduated,
        }


class RegionTargetQuerySet(ScopedQuerySet["RegionTarget"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.LEADERSHIP, Role.OPD_OFFICER):
            return Q(region__code__startswith=grant.region_code)
        return None


class RegionTarget(models.Model):
    """Poverty targets and BPS actuals of a region for a year (e.g. 7.44 % → 6.65 %)."""

    region = models.ForeignKey("tkpk.Region", verbose_name=_("wilayah"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("tahun"))
    poverty_rate_target = models.DecimalField(
        _("target tingkat kemiskinan (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    poverty_rate_actual = models.DecimalField(
        _("tingkat kemiskinan BPS (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    extreme_rate_target = models.DecimalField(
        _("target kemiskinan ekstrem (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    extreme_rate_actual = models.DecimalField(
        _("kemiskinan ekstrem BPS (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    poor_population = models.PositiveIntegerField(_("jumlah penduduk miskin (jiwa)"), null=True, blank=True)
    source_note = models.CharField(_("sumber angka"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    objects = RegionTargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("target kemiskinan wilayah")
        verbose_name_plural = _("target kemiskinan wilayah")
        ordering = ["region", "year"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="region_target_once_per_year"),
            models.CheckConstraint(
                condition=(Q(poverty_rate_target__gte=0, poverty_rate_target__lte=100) | Q(poverty_rate_target=None))
                & (Q(poverty_rate_actual__gte=0, poverty_rate_actual__lte=100) | Q(poverty_rate_actual=None))
                & (Q(extreme_rate_target__gte=0, extreme_rate_target__lte=100) | Q(extreme_rate_target=None))
                & (Q(extreme_rate_actual__gte=0, extreme_rate_actual__lte=100) | Q(extreme_rate_actual=None)),
                name="region_target_rates_are_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}"


class BoundaryQuerySet(ScopedQuerySet["RegionBoundarySet"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.LEADERSHIP, Role.OPD_OFFICER):
            code = grant.region_code
            return Q(region__code__startswith=code) | Q(region__code__in=[code[:n] for n in (2,) if n < len(code)])
        return None


class RegionBoundarySet(models.Model):
    """A GeoJSON FeatureCollection of kecamatan or desa boundaries, keyed by Kemendagri code."""

    region = models.ForeignKey(
        "tkpk.Region", verbose_name=_("wilayah induk"), on_delete=models.PROTECT, related_name="+"
    )
    level = models.PositiveSmallIntegerField(
        _("tingkat batas"), choices=[(3, _("Kecamatan")), (4, _("Desa/kelurahan"))]
    )
    name = models.CharField(_("nama"), max_length=150)
    geojson = models.JSONField(_("GeoJSON"))
    code_property = models.CharField(_("properti kode wilayah"), max_length=40, default="kode")
    feature_count = models.PositiveIntegerField(_("jumlah fitur"), default=0, editable=False)
    is_schematic = models.BooleanField(
        _("skematis"), default=False, help_text=_("Batas buatan untuk demo, bukan batas resmi.")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("diunggah oleh"), null=True, blank=True, on_delete=models.SET_NULL
    )
    uploaded_at = models.DateTimeField(_("diunggah"), auto_now=True)

    objects = BoundaryQuerySet.as_manager()

    class Meta:
        verbose_name = _("batas wilayah (GeoJSON)")
        verbose_name_plural = _("batas wilayah (GeoJSON)")
        constraints = [models.UniqueConstraint(fields=["region", "level"], name="boundary_once_per_region_level")]

    def __str__(self) -> str:
        return self.name


class PeriodicReportPeriod(models.TextChoices):
    SEMESTER_1 = "s1", _("Semester 1")
    SEMESTER_2 = "s2", _("Semester 2")
    ANNUAL = "year", _("Tahunan")


class PeriodicReportQuerySet(ScopedQuerySet["PeriodicReport"]):
    def grant_q(self, grant: Grant) -> Q | None:
        if grant.role in (Role.SECRETARIAT, Role.LEADERSHIP, Role.OPD_OFFICER):
            return Q(region__code__startswith=grant.region_code)
        return None


class PeriodicReport(models.Model):
    """A periodic (semester / annual, LP2KD-style) report of a TKPK region, generated in Celery as PDF + .xlsx."""

    region = models.ForeignKey("tkpk.Region", verbose_name=_("wilayah"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("tahun"))
    period = models.CharField(_("periode"), max_length=4, choices=PeriodicReportPeriod.choices)
    status = models.CharField(_("status"), max_length=10, choices=GapRunStatus.choices, default=GapRunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("kemajuan (%)"), default=0)
    step = models.CharField(_("tahap"), max_length=120, blank=True)
    message = models.TextField(_("pesan"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("diminta oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("diminta"), auto_now_add=True)
    started_at = models.DateTimeField(_("mulai"), null=True, blank=True)
    finished_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    # The gap computation the figures come from and the snapshots it used ("data per …, sumber …").
    gap_run = models.ForeignKey(
        GapRun, verbose_name=_("perhitungan"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data_as_of = models.DateTimeField(_("data per"), null=True, blank=True)
    sources_label = models.CharField(_("sumber data"), max_length=500, blank=True)
    pdf = models.FileField(_("berkas PDF"), upload_to="periodic-reports/%Y/", blank=True)
    xlsx = models.FileField(_("berkas .xlsx"), upload_to="periodic-reports/%Y/", blank=True)
    page_count = models.PositiveSmallIntegerField(_("jumlah halaman"), default=0)
    task_id = models.CharField(_("ID tugas"), max_length=64, blank=True)

    objects = PeriodicReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("laporan berkala")
        verbose_name_plural = _("laporan berkala")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["region", "year", "period"], name="periodic_report_region_period")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.period_label} ({self.get_status_display()})"

    @property
    def period_label(self) -> str:
        if self.period == PeriodicReportPeriod.ANNUAL:
            return str(_("Tahun %(year)s")) % {"year": self.year}
        return f"{self.get_period_display()} {self.year}"

    @property
    def is_pending(self) -> bool:
        return self.status in (GapRunStatus.QUEUED, GapRunStatus.RUNNING)
