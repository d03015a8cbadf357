from django.db import migrations

SOURCES = [
    ("p3ke", "P3KE", "Kemenko PMK", "Pensasaran Percepatan Penghapusan Kemiskinan Ekstrem (2022), desil 1-4."),
    ("dtks", "DTKS", "Kementerian Sosial", "Data Terpadu Kesejahteraan Sosial (SIKS-NG)."),
    ("dtsen", "DTSEN", "BPS", "Data Tunggal Sosial Ekonomi Nasional (Inpres 4/2025), desil 1-10."),
    ("local", "Data lokal", "Pemerintah daerah", "Keluarga yang ditambahkan desa/OPD setelah verifikasi lapangan."),
]


def add_sources(apps, schema_editor):
    Source = apps.get_model("households", "Source")
    for code, name, publisher, description in SOURCES:
        Source.objects.update_or_create(
            code=code, defaults={"name": name, "publisher": publisher, "description": description}
        )


class Migration(migrations.Migration):
    dependencies = [("households", "0002_trigram_name_indexes")]

    operations = [migrations.RunPython(add_sources, migrations.RunPython.noop)]
