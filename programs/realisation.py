"""The precomputed realisation rows of programs (``ProgramRealisation``), rewritten after every write of
interventions (form, API, spreadsheet, demo). Two grouped queries per refresh, whatever the number of
programs; the rows are few (programs x kecamatan x status)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Sum

from programs.models import Intervention, Program, ProgramRealisation


def program_realisation_refresh(*, program_ids: Iterable[int]) -> None:
    """Recompute the realisation rows of these programs from their interventions."""
    ids = sorted({int(pk) for pk in program_ids})
    if not ids:
        return
    with transaction.atomic():
        # Serialise concurrent refreshes of one program: each recount then sees the other's committed rows.
        list(Program.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
        interventions = Intervention.objects.filter(program_id__in=ids).order_by()
        measures = {
            "households": Count("household_id", distinct=True),
            "n": Count("id"),
            "total_value": Sum("value"),
        }
        per_kecamatan = interventions.values("program_id", "kecamatan_code", "status").annotate(**measures)
        totals = interventions.values("program_id", "status").annotate(**measures)
        rows = [
            ProgramRealisation(
                program_id=row["program_id"],
                kecamatan_code=row.get("kecamatan_code", ""),
                status=row["status"],
                households=row["households"],
                interventions=row["n"],
                value=row["total_value"] or 0,
            )
            for row in [*per_kecamatan, *totals]
        ]
        ProgramRealisation.objects.filter(program_id__in=ids).delete()
        ProgramRealisation.objects.bulk_create(rows, batch_size=1000)
