"""Chat apps keep their configuration as their channel's credential schema says: secret
fields in `secrets` (encrypted), the rest in `options`; the fixed WeChat-named columns go."""

import django.core.validators
from django.db import migrations, models

import apps.ai_assistant.encrypted
import apps.ai_assistant.models

# channel → {old column: (new field, secret?)}
COLUMNS = {
    "wechat": {
        "token": ("token", True),
        "encoding_aes_key": ("encoding_aes_key", True),
        "secret": ("app_secret", True),
        "security_mode": ("security_mode", False),
    },
    "wecom": {
        "token": ("token", True),
        "encoding_aes_key": ("encoding_aes_key", True),
        "secret": ("secret", True),
        "agent_id": ("agent_id", False),
    },
    "dingtalk": {"secret": ("app_secret", True)},
    "telegram": {"secret": ("bot_token", True), "token": ("webhook_secret", True)},
}


def move_credentials(apps, schema_editor):
    ChannelApp = apps.get_model("ai_assistant", "ChannelApp")
    for app in ChannelApp.objects.all():
        options, secrets = {}, {}
        for column, (field, secret) in COLUMNS.get(app.channel, {}).items():
            value = getattr(app, column)
            if value:
                (secrets if secret else options)[field] = value
        ChannelApp.objects.filter(pk=app.pk).update(options=options, secrets=secrets)


def move_credentials_back(apps, schema_editor):
    ChannelApp = apps.get_model("ai_assistant", "ChannelApp")
    for app in ChannelApp.objects.all():
        values = {**app.options, **app.secrets}
        columns = {
            column: values.get(field, "")
            for column, (field, _) in COLUMNS.get(app.channel, {}).items()
        }
        if "security_mode" in columns and not columns["security_mode"]:
            columns["security_mode"] = "safe"
        ChannelApp.objects.filter(pk=app.pk).update(**columns)


class Migration(migrations.Migration):
    dependencies = [
        ("ai_assistant", "0005_secrets_encrypted_at_rest"),
    ]

    operations = [
        migrations.AddField(
            model_name="channelapp",
            name="options",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="channelapp",
            name="secrets",
            field=apps.ai_assistant.encrypted.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.RunPython(move_credentials, move_credentials_back),
        migrations.RemoveField(
            model_name="channelapp",
            name="agent_id",
        ),
        migrations.RemoveField(
            model_name="channelapp",
            name="encoding_aes_key",
        ),
        migrations.RemoveField(
            model_name="channelapp",
            name="secret",
        ),
        migrations.RemoveField(
            model_name="channelapp",
            name="security_mode",
        ),
        migrations.RemoveField(
            model_name="channelapp",
            name="token",
        ),
        migrations.AlterField(
            model_name="channelapp",
            name="app_id",
            field=models.CharField(
                help_text="WeChat AppID, WeCom CorpID, DingTalk AppKey, Telegram bot username…",
                max_length=100,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Za-z0-9_.:@-]{1,100}$",
                        "Letters, digits and _ . : @ - only, as the platform shows.",
                    )
                ],
            ),
        ),
        migrations.AlterField(
            model_name="channelapp",
            name="channel",
            field=models.CharField(choices=apps.ai_assistant.models.channel_choices, max_length=20),
        ),
        migrations.AlterField(
            model_name="channelidentity",
            name="channel",
            field=models.CharField(choices=apps.ai_assistant.models.channel_choices, max_length=20),
        ),
        migrations.AlterField(
            model_name="conversation",
            name="channel",
            field=models.CharField(choices=apps.ai_assistant.models.channel_choices, max_length=20),
        ),
        migrations.AlterField(
            model_name="inboundmessage",
            name="channel",
            field=models.CharField(choices=apps.ai_assistant.models.channel_choices, max_length=20),
        ),
    ]
