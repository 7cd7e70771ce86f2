"""Talk to the assistant from the terminal, as an ERP user, through the same MessageHandler."""

import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.ai_assistant.handler import MessageHandler
from apps.ai_assistant.messages import IncomingMessage


class Command(BaseCommand):
    help = "Chat with the ERP assistant as a user: interactive, or one message with --message."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="ERP username to act as")
        parser.add_argument("--message", help="send one message, print the reply and exit")

    def handle(self, *args, **options):
        try:
            user = get_user_model().objects.get(username=options["user"])
        except get_user_model().DoesNotExist as error:
            raise CommandError(f"No user named {options['user']!r}.") from error
        handler = MessageHandler(user)
        conversation_id = f"cli-{user.pk}"
        if options["message"] is not None:
            self._say(handler, user, conversation_id, options["message"])
            return
        self.stdout.write("ERP assistant — type /help for ideas, Ctrl-D to quit.")
        while True:
            try:
                content = input(f"{user.username}> ")
            except (EOFError, KeyboardInterrupt):
                self.stdout.write("")
                return
            if content.strip():
                self._say(handler, user, conversation_id, content)

    def _say(self, handler, user, conversation_id: str, content: str) -> None:
        message = IncomingMessage(
            message_id=f"cli-{uuid.uuid4().hex}",
            channel="cli",
            external_user_id=user.username,
            content=content,
            timestamp=timezone.now(),
            conversation_id=conversation_id,
        )
        self.stdout.write(handler.handle_message(message).content)
