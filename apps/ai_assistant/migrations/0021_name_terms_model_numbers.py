from django.db import migrations


def rebuild_names(apps, schema_editor):
    # A SKU's number that the English name gives as its model names the item ("3015").
    from apps.ai_assistant.brain.names import rebuild_for_migration

    rebuild_for_migration(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('ai_assistant', '0020_name_terms_english_districts'),
    ]

    operations = [migrations.RunPython(rebuild_names, migrations.RunPython.noop)]
