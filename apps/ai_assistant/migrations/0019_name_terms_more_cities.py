from django.db import migrations


def rebuild_names(apps, schema_editor):
    # More cities, and districts, before a customer's or supplier's short name ("长沙浩宇":
    # 浩宇; "佛山南海宏源家具": 宏源).
    from apps.ai_assistant.brain.names import rebuild_for_migration

    rebuild_for_migration(apps)


class Migration(migrations.Migration):

    dependencies = [
        ('ai_assistant', '0018_report_job_renewed'),
    ]

    operations = [migrations.RunPython(rebuild_names, migrations.RunPython.noop)]
