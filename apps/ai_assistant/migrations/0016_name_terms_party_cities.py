from django.db import migrations


def rebuild_names(apps, schema_editor):
    # A customer's or supplier's city names it too ("苏州那家客户"), unless a warehouse has it.
    from apps.ai_assistant.brain.names import rebuild_for_migration

    rebuild_for_migration(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('ai_assistant', '0015_name_terms_english_readings'),
    ]

    operations = [migrations.RunPython(rebuild_names, migrations.RunPython.noop)]
