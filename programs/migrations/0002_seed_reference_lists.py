"""Seed the editable code lists: Permendagri 53/2020 clusters, strategies and assistance kinds."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

CLUSTERS = [
    ("klaster-1", "Klaster 1: Bantuan sosial dan perlindungan sosial"),
    ("klaster-2", "Klaster 2: Pemberdayaan masyarakat dan usaha mikro dan kecil"),
    ("klaster-3", "Klaster 3: Program lain peningkatan ekonomi dan kesejahteraan"),
]
STRATEGIES = [
    ("kurangi-beban", "Mengurangi beban pengeluaran"),
    ("tingkatkan-pendapatan", "Meningkatkan pendapatan"),
    ("kurangi-kantong-kemiskinan", "Mengurangi wilayah kantong kemiskinan"),
]
ASSISTANCE_KINDS = [
    ("pangan", "Bantuan pangan"),
    ("tunai", "Bantuan tunai"),
    ("rtlh", "Perbaikan rumah tidak layak huni (RTLH)"),
    ("modal-usaha", "Modal usaha"),
    ("alat-produksi", "Alat/sarana produksi"),
    ("pelatihan", "Pelatihan keterampilan"),
    ("kesehatan", "Kesehatan"),
    ("pendidikan", "Pendidikan"),
    ("sanitasi-air", "Sanitasi dan air bersih"),
    ("listrik", "Listrik/penerangan"),
    ("jaminan-sosial", "Kepesertaan jaminan sosial"),
    ("lainnya", "Lainnya"),
]


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for model_name, rows in (
        ("ProgramCluster", CLUSTERS),
        ("ProgramStrategy", STRATEGIES),
        ("AssistanceKind", ASSISTANCE_KINDS),
    ):
        model = apps.get_model("programs", model_name)
        for order, (code, name) in enumerate(rows, start=1):
            model.objects.update_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("programs", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
