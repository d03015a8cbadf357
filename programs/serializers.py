"""API shapes of programs and interventions: input serializers validate shape only (rules live in
programs.services), output serializers render what the selectors return. A full NIK is never rendered."""

from __future__ import annotations

from typing import Any

from django.core.files import File
from django.core.validators import FileExtensionValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from programs.models import (
    AssistanceKind,
    FundingSource,
    Intervention,
    InterventionStatus,
    OutsideRegionPolicy,
    Program,
    ProgramCluster,
    ProgramStrategy,
)
from programs.rules import RuleViolation
from tkpk.identifiers import IdentifierError, normalize_region_code
from tkpk.models import Organization, Region

# Larger batches belong in the spreadsheet upload, which is set-based.
BULK_MAX_ITEMS = 1000
EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
EVIDENCE_EXTENSIONS = ["pdf", "jpg", "jpeg", "png"]


# ------------------------------------------------------------------------------------------------ shared


class ErrorSerializer(serializers.Serializer[Any]):
    """The one error shape of the API (DomainError): a Bahasa message, a stable code and details."""

    message = serializers.CharField()
    code = serializers.CharField()
    extra = serializers.DictField()


class RuleWarningSerializer(serializers.Serializer[RuleViolation]):
    """A delivery rule that did not refuse the record but deserves a second look."""

    code = serializers.CharField()
    field = serializers.CharField()
    message = serializers.CharField()


# ---------------------------------------------------------------------------------------------- programs


class ProgramOutputSerializer(serializers.ModelSerializer[Program]):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    region = serializers.CharField(source="region_id", read_only=True)
    cluster = serializers.CharField(source="cluster.code", read_only=True)
    cluster_name = serializers.CharField(source="cluster.name", read_only=True)
    strategy = serializers.CharField(source="strategy.code", read_only=True)
    strategy_name = serializers.CharField(source="strategy.name", read_only=True)
    assistance_kind = serializers.CharField(source="assistance_kind.code", read_only=True)
    assistance_kind_name = serializers.CharField(source="assistance_kind.name", read_only=True)
    target_regions: serializers.SlugRelatedField[Region] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    reached = serializers.IntegerField(read_only=True, help_text=_("Keluarga yang sudah menerima (tersalurkan)."))
    realised_value = serializers.DecimalField(
        max_digits=18, decimal_places=0, read_only=True, help_text=_("Nilai tersalurkan (Rp).")
    )

    class Meta:
        model = Program
        fields = [
            "id", "code", "name", "year", "organization", "organization_name", "region",
            "cluster", "cluster_name", "strategy", "strategy_name", "assistance_kind", "assistance_kind_name",
            "funding_source", "budget", "unit_value", "target_households", "target_regions",
            "outside_region_policy", "max_desil", "eligibility_note", "starts_on", "ends_on", "once_per_year",
            "description", "is_active", "reached", "realised_value", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ProgramInputSerializer(serializers.Serializer[Any]):
    """Create (all required fields) or partial update (PATCH) of a program. ``organization`` may only be one
    the user may manage programs for; omitted, it is the user's own organization."""

    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.none(), required=False)
    code = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=200)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    cluster = serializers.SlugRelatedField(slug_field="code", queryset=ProgramCluster.objects.filter(is_active=True))
    strategy = serializers.SlugRelatedField(slug_field="code", queryset=ProgramStrategy.objects.filter(is_active=True))
    assistance_kind = serializers.SlugRelatedField(
        slug_field="code", queryset=AssistanceKind.objects.filter(is_active=True)
    )
    funding_source = serializers.ChoiceField(choices=FundingSource.choices)
    budget = serializers.DecimalField(max_digits=16, decimal_places=0, min_value=0, required=False)
    unit_value = serializers.DecimalField(max_digits=14, decimal_places=0, min_value=0, required=False, allow_null=True)
    target_households = serializers.IntegerField(min_value=0, required=False)
    target_regions = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        help_text=_("Kode kecamatan/desa sasaran (boleh bertitik). Kosong = seluruh wilayah TKPK."),
    )
    outside_region_policy = serializers.ChoiceField(choices=OutsideRegionPolicy.choices, required=False)
    max_desil = serializers.IntegerField(min_value=1, max_value=10, required=False, allow_null=True)
    eligibility_note = serializers.CharField(required=False, allow_blank=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    once_per_year = serializers.BooleanField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)

    def __init__(self, *args: Any, organizations: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if organizations is not None:
            self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]

    def validate_target_regions(self, value: list[str]) -> list[Region]:
        codes: list[str] = []
        bad: list[str] = []
        for raw in value:
            try:
                codes.append(normalize_region_code(raw))
            except IdentifierError:
                bad.append(raw)
        found = {r.code: r for r in Region.objects.filter(code__in=codes, level__in=(3, 4))}
        bad += [code for code in codes if code not in found]
        if bad:
            raise serializers.ValidationError(
                _("Kode kecamatan/desa tidak dikenal: %(codes)s.") % {"codes": ", ".join(bad)}
            )
        return [found[code] for code in dict.fromkeys(codes)]


# ------------------------------------------------------------------------------------------ interventions


class InterventionInputSerializer(serializers.Serializer[Any]):
    """One delivery. The household is named by exactly one of ``household`` (internal id), ``id_keluarga``
    (ID Keluarga in a source such as P3KE) or ``nik`` (a member's NIK, used for the lookup only)."""

    program = serializers.IntegerField(min_value=1)
    household = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    id_keluarga = serializers.CharField(max_length=64, required=False, allow_blank=True)
    nik = serializers.CharField(max_length=32, required=False, allow_blank=True, write_only=True)
    person = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text=_("Anggota keluarga penerima (opsional).")
    )
    delivered_on = serializers.DateField()
    value = serializers.DecimalField(
        max_digits=14,
        decimal_places=0,
        min_value=0,
        required=False,
        allow_null=True,
        help_text=_("Kosong = nilai per keluarga dari program."),
    )
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
    status = serializers.ChoiceField(
        choices=InterventionStatus.choices,
        required=False,
        help_text=_("Direncanakan atau tersalurkan (bawaan); penyaluran baru tidak dapat berstatus dibatalkan."),
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [key for key in ("household", "id_keluarga", "nik") if attrs.get(key) not in (None, "")]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"household": _("Sebutkan keluarga dengan tepat satu dari: household, id_keluarga atau nik.")}
            )
        return attrs


def _evidence_size(file: File[Any]) -> None:
    if file.size and file.size > EVIDENCE_MAX_BYTES:
        raise serializers.ValidationError(
            _("Berkas bukti terlalu besar (maksimum %(mb)s MB).") % {"mb": EVIDENCE_MAX_BYTES // (1024 * 1024)}
        )


class InterventionCreateSerializer(InterventionInputSerializer):
    """One delivery with an optional evidence file (send as multipart/form-data to attach one)."""

    evidence = serializers.FileField(
        required=False,
        validators=[FileExtensionValidator(EVIDENCE_EXTENSIONS), _evidence_size],
        help_text=_("Bukti penyaluran (PDF/JPG/PNG, maksimum 5 MB)."),
    )


class InterventionBulkRequestSerializer(serializers.Serializer[Any]):
    items = InterventionInputSerializer(many=True, help_text=_("Maksimum 1000 baris per permintaan."))


class BulkEnvelopeSerializer(serializers.Serializer[Any]):
    """Parses only the envelope: each item is validated on its own so one bad item does not refuse all."""

    items = serializers.ListField(child=serializers.JSONField(), allow_empty=False)


class BulkItemResultSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField(help_text=_("Posisi baris dalam `items` (mulai 0)."))
    id = serializers.IntegerField(allow_null=True, help_text=_("Id intervensi yang dibuat; null jika ditolak."))
    warnings = RuleWarningSerializer(many=True)
    error = ErrorSerializer(allow_null=True)


class BulkResultSerializer(serializers.Serializer[Any]):
    created = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = BulkItemResultSerializer(many=True)


class InterventionCancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=300, allow_blank=True)


class InterventionHouseholdSerializer(serializers.Serializer[Any]):
    """The household as the API shows it beside an intervention: id, head's name and desa; no NIK/No KK."""

    id = serializers.IntegerField()
    head_name = serializers.CharField()
    desa = serializers.CharField(source="desa_id")
    desa_name = serializers.CharField(source="desa.name")


class InterventionOutputSerializer(serializers.ModelSerializer[Intervention]):
    program_code = serializers.CharField(source="program.code", read_only=True)
    household = InterventionHouseholdSerializer(read_only=True)
    has_evidence = serializers.SerializerMethodField()

    class Meta:
        model = Intervention
        fields = [
            "id", "program", "program_code", "household", "person", "delivered_on", "period_year", "value",
            "quantity", "status", "cancel_reason", "note", "channel", "has_evidence", "organization",
            "entered_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_has_evidence(self, obj: Intervention) -> bool:
        return bool(obj.evidence)


class InterventionCreatedSerializer(InterventionOutputSerializer):
    """The created intervention and the rule warnings the officer should see."""

    warnings = serializers.SerializerMethodField()

    class Meta(InterventionOutputSerializer.Meta):
        fields = [*InterventionOutputSerializer.Meta.fields, "warnings"]
        read_only_fields = fields

    @extend_schema_field(RuleWarningSerializer(many=True))
    def get_warnings(self, obj: Intervention) -> list[dict[str, Any]]:
        warnings = self.context.get("warnings", [])
        return RuleWarningSerializer(warnings, many=True).data  # type: ignore[return-value]
