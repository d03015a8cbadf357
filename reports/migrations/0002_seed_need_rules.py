"""Seed the default need rules (editable by the secretariat) and, on PostgreSQL, make the derived fact
table UNLOGGED: it is rewritten by every computation and rebuilt by the next one, so WAL buys nothing."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

RULES = [
    # code, name, condition, assistance kinds that meet it
    ("rtlh", "Perbaikan rumah (RTLH)", "unfit_housing", ["rtlh"]),
    (
        "usaha",
        "Dukungan pendapatan (modal usaha, alat produksi, pelatihan)",
        "productive_member",
        ["modal-usaha", "alat-produksi", "pelatihan"],
    ),
    ("perlindungan", "Bantuan pangan/perlindungan sosial", "no_productive_member", ["pangan", "tunai", "jaminan-sosial"]),
]


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    rule_model = apps.get_model("reports", "NeedRule")
    kind_model = apps.get_model("programs", "AssistanceKind")
    for order, (code, name, condition, kinds) in enumerate(RULES, start=1):
        rule, _ = rule_model.objects.update_or_create(
            code=code, defaults={"name": name, "condition": condition, "sort_order": order}
        )
        rule.assistance_kinds.set(kind_model.objects.filter(code__in=kinds))


def unlogged(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE reports_gaphouseholdfact SET UNLOGGED")


def logged(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE reports_gaphouseholdfact SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("programs", "0002_seed_reference_lists")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(unlogged, logged),
    ]
