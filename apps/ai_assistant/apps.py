from django.apps import AppConfig


class AiAssistantConfig(AppConfig):
    name = "apps.ai_assistant"
    verbose_name = "AI assistant"
