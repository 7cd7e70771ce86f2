from django.db import migrations


def rebuild_names(apps, schema_editor):
    # A SKU without its last part ("LC-3015") and a word of a SKU ("install") name items.
    from apps.ai_assistant.brain.names import rebuild_for_migration

    rebuild_for_migration(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('ai_assistant', '0021_name_terms_model_numbers'),
    ]

    operations = [migrations.RunPython(rebuild_names, migrations.RunPython.noop)]
