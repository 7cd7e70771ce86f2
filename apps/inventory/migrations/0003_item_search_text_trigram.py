"""On PostgreSQL, a trigram index on Item.search_text, so finding the items whose names
contain a word (`search_text LIKE '%word%'`) reads the index, not the whole catalogue.
pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
SQLite keeps the plain scan (the embedded default holds small catalogues)."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS inventory_item_search_text_trgm "
        "ON inventory_item USING gin (search_text gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS inventory_item_search_text_trgm")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
