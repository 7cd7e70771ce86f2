from django.db import migrations


def rebuild_names(apps, schema_editor):
    # An English name's word after a district names the party ("Foshan Nanhai Hongyuan
    # Furniture": Hongyuan).
    from apps.ai_assistant.brain.names import rebuild_for_migration

    rebuild_for_migration(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('ai_assistant', '0019_name_terms_more_cities'),
    ]

    operations = [migrations.RunPython(rebuild_names, migrations.RunPython.noop)]
