from django.db import migrations


def rebuild_names(apps, schema_editor):
    # A code part of a SKU with letters and digits ("F30" of LM-F30) names its items.
    from apps.ai_assistant.brain.names import rebuild_for_migration

    rebuild_for_migration(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('ai_assistant', '0022_name_terms_sku_parts'),
    ]

    operations = [migrations.RunPython(rebuild_names, migrations.RunPython.noop)]
