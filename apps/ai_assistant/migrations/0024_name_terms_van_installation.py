from django.db import migrations


def rebuild_names(apps, schema_editor):
    # "van" names the service van; "installation" names the installation service.
    from apps.ai_assistant.brain.names import rebuild_for_migration

    rebuild_for_migration(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('ai_assistant', '0023_name_terms_sku_code_parts'),
    ]

    operations = [migrations.RunPython(rebuild_names, migrations.RunPython.noop)]
