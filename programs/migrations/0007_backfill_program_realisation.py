"""Fill the precomputed realisation rows of programs that had interventions before the table existed."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Count, Sum


def backfill(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    intervention = apps.get_model("programs", "Intervention")
    realisation = apps.get_model("programs", "ProgramRealisation")
    measures = {"households": Count("household_id", distinct=True), "n": Count("id"), "total": Sum("value")}
    rows = intervention.objects.order_by()
    per_kecamatan = rows.values("program_id", "kecamatan_code", "status").annotate(**measures)
    totals = rows.values("program_id", "status").annotate(**measures)
    realisation.objects.all().delete()
    realisation.objects.bulk_create(
        [
            realisation(
                program_id=row["program_id"],
                kecamatan_code=row.get("kecamatan_code", ""),
                status=row["status"],
                households=row["households"],
                interventions=row["n"],
                value=row["total"] or 0,
            )
            for row in [*per_kecamatan, *totals]
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("programs", "0006_intervention_program_recent_index")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
