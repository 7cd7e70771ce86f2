"""Chat apps' secrets and access tokens encrypted at rest: widen the columns to text, encrypt
what is stored, then read them through EncryptedTextField."""

from django.db import migrations, models

from apps.ai_assistant.encrypted import EncryptedTextField, decrypt, encrypt

SECRET_COLUMNS = {"channelapp": ("token", "encoding_aes_key", "secret"), "accesstoken": ("token",)}


def _convert(apps, convert):
    # The historical models see the columns as plain text here: values pass unchanged.
    for model_name, columns in SECRET_COLUMNS.items():
        model = apps.get_model("ai_assistant", model_name)
        for row in model.objects.all():
            values = {column: convert(getattr(row, column)) for column in columns}
            model.objects.filter(pk=row.pk).update(**values)


def encrypt_stored_secrets(apps, schema_editor):
    _convert(apps, encrypt)


def decrypt_stored_secrets(apps, schema_editor):
    _convert(apps, decrypt)


class Migration(migrations.Migration):
    dependencies = [
        ("ai_assistant", "0004_security_mode_and_webhook_proofs"),
    ]

    operations = [
        migrations.AlterField(
            model_name="channelapp", name="token", field=models.TextField(blank=True)
        ),
        migrations.AlterField(
            model_name="channelapp", name="encoding_aes_key", field=models.TextField(blank=True)
        ),
        migrations.AlterField(
            model_name="channelapp", name="secret", field=models.TextField(blank=True)
        ),
        migrations.RunPython(encrypt_stored_secrets, decrypt_stored_secrets),
        migrations.AlterField(
            model_name="accesstoken",
            name="token",
            field=EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name="channelapp",
            name="encoding_aes_key",
            field=EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="channelapp",
            name="secret",
            field=EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="channelapp",
            name="token",
            field=EncryptedTextField(blank=True),
        ),
    ]
