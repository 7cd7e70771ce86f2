from django.db import migrations


def rebuild_names(apps, schema_editor):
    # English names read as staff say them (hyphens apart, "marker" for "marking machine",
    # acronyms, model codes, no "for …" tail) and their single words kept for misspellings.
    from apps.ai_assistant.brain.names import rebuild_for_migration

    rebuild_for_migration(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('ai_assistant', '0014_inbound_waiting'),
    ]

    operations = [migrations.RunPython(rebuild_names, migrations.RunPython.noop)]
