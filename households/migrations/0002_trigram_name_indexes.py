from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from tkpk.migration_ops import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [("households", "0001_initial")]

    operations = [
        TrigramExtension(),
        PostgresOnlySQL(
            "CREATE INDEX IF NOT EXISTS household_head_name_trgm ON households_household "
            "USING gin (UPPER(head_name) gin_trgm_ops)",
            "DROP INDEX IF EXISTS household_head_name_trgm",
        ),
        PostgresOnlySQL(
            "CREATE INDEX IF NOT EXISTS person_name_trgm ON households_person USING gin (UPPER(name) gin_trgm_ops)",
            "DROP INDEX IF EXISTS person_name_trgm",
        ),
    ]
