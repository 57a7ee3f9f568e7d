"""Trigram indexes for the incident search box on PostgreSQL.

`icontains` compiles to UPPER(col::text) LIKE UPPER('%term%'), which no B-tree can serve: at
100,000 incidents the search was a 160–200 ms sequential scan. GIN trigram indexes on exactly those
expressions let PostgreSQL answer it from the index. SQLite (the embedded mode) has no such index
type; there the migration does nothing."""

from django.db import migrations

INDEXES = {
    "incident_title_trgm": "title",
    "incident_description_trgm": "description",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON incidents_incident USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_incident_severity_sort_index")]

    operations = [migrations.RunPython(forwards, backwards)]
