"""MessageHandler: one chat message in, one reply out, as the ERP user bound to the sender.

Order of work: unbound or inactive senders are answered without ERP data; commands
(/help /bind /new /cancel) and yes/no answers to a staged write come next; everything else
goes to the brain, whose tool calls run through the registry as the user.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import identity, jobs, metrics, rate_limit
from .brain import get_brain
from .brain.base import BrainReply, BrainTurn, detect_language
from .channels.base import CHANNELS
from .messages import IncomingMessage, OutgoingMessage
from .models import Conversation, ConversationTurn, PendingAction
from .pending import cancel as cancel_pending
from .pending import stage as stage_pending
from .replies import greeting, help_text, jobs_text, render_result
from .texts import text
from .tools.registry import STATUS, ToolContext, ToolResult, execute_tool, tools_for

logger = logging.getLogger(__name__)

YES_WORDS = {"是", "是的", "确认", "确定", "好", "好的", "对", "yes", "y", "ok", "confirm"}
NO_WORDS = {"否", "不", "不要", "取消", "算了", "no", "n", "cancel"}
# Of those, the ones that also stop a report being made when nothing waits for a yes.
CANCEL_WORDS = {"取消", "cancel"}
BIND_COMMAND = re.compile(r"^/bind(?:@\w+)?\s+(\S+)\s*$", re.IGNORECASE)
COMMAND = re.compile(r"^/(\w+)(?:@\w+)?\b", re.IGNORECASE)
COMMAND_ECHO_CHARS = 20


def _answer_word(content: str) -> str:
    return content.strip().strip("!！.。~～ ").lower()


class MessageHandler:
    """Answers messages as `user` (None for a chat account not bound to anyone yet)."""

    def __init__(self, user: Any, brain: Any = None) -> None:
        self.user = user
        self.brain = brain

    def handle_message(self, message: IncomingMessage) -> OutgoingMessage:
        started = time.monotonic()
        try:
            return self._handle(message)
        finally:
            channel = metrics.known(message.channel, CHANNELS)
            metrics.TURN_SECONDS.labels(channel).observe(time.monotonic() - started)

    def _handle(self, message: IncomingMessage) -> OutgoingMessage:
        content = (message.content or "").strip()
        # The language of a hostile 100k-character text is read from its start only.
        language = detect_language(content[:200])
        verdict = rate_limit.check(message.channel, message.external_user_id)
        if verdict is not rate_limit.Verdict.WITHIN:
            # Over the limit: one polite answer per minute, then nothing (nothing to send).
            polite = verdict is rate_limit.Verdict.FIRST_OVER
            reply = text("rate_limited", language) if polite else ""
            return OutgoingMessage(content=reply, language=language)
        limit = settings.AI_ASSISTANT_MAX_MESSAGE_CHARS
        if len(content) > limit:
            return OutgoingMessage(
                content=text("too_long", language, limit=str(limit), length=str(len(content))),
                language=language,
            )
        if self.user is None:
            return self._unbound(message, content, language)
        if not self.user.is_active:
            return OutgoingMessage(content=text("inactive", language), language=language)
        command = COMMAND.match(content)
        if command and command.group(1).lower() == "bind":
            return self._bind(message, content, language)
        with transaction.atomic():
            conversation = self._conversation(message)
            reply = self._answer(message, conversation, content, language, command)
            ConversationTurn.objects.create(
                conversation=conversation,
                message_id=message.message_id,
                user_text=content,
                reply_text=reply.content,
                language=language,
                brain=getattr(self._brain(), "name", ""),
            )
            conversation.last_active_at = timezone.now()
            conversation.save(update_fields=["last_active_at", "context"])
        return reply

    # --- senders without a usable account -------------------------------------------------

    def _unbound(self, message: IncomingMessage, content: str, language: str) -> OutgoingMessage:
        if BIND_COMMAND.match(content):
            return self._bind(message, content, language)
        return OutgoingMessage(content=text("unbound", language), language=language)

    def _bind(self, message: IncomingMessage, content: str, language: str) -> OutgoingMessage:
        match = BIND_COMMAND.match(content)
        if not match:
            return OutgoingMessage(content=text("bind_usage", language), language=language)
        user = identity.bind(message.channel, message.external_user_id, match.group(1))
        if user is None:
            return OutgoingMessage(content=text("bind_failed", language), language=language)
        name = user.get_full_name() or user.get_username()
        return OutgoingMessage(content=text("bound", language, name=name), language=language)

    # --- one turn -------------------------------------------------------------------------

    def _conversation(self, message: IncomingMessage) -> Conversation:
        conversation, _ = Conversation.objects.select_for_update().get_or_create(
            channel=message.channel,
            external_conversation_id=message.conversation_key,
            user=self.user,
            state=Conversation.State.ACTIVE,
        )
        idle_limit = timedelta(minutes=settings.AI_ASSISTANT_CONTEXT_IDLE_MINUTES)
        if timezone.now() - conversation.last_active_at > idle_limit:
            conversation.context = {}
        return conversation

    def _answer(
        self,
        message: IncomingMessage,
        conversation: Conversation,
        content: str,
        language: str,
        command: re.Match | None,
    ) -> OutgoingMessage:
        tools = tools_for(self.user)
        if message.message_type == "event":
            return OutgoingMessage(content=greeting(language, tools), language=language)
        if message.message_type == "voice":
            if not content:
                return OutgoingMessage(content=text("voice_unheard", language), language=language)
            reply = self._answer(
                replace(message, message_type="text"), conversation, content, language, command
            )
            # Say what was heard: a transcription can be wrong.
            reply.content = text("heard", language, text=content) + "\n" + reply.content
            return reply
        if message.message_type != "text":
            return OutgoingMessage(content=text("text_only", language), language=language)
        if command:
            return self._command(command.group(1).lower(), conversation, language, tools)
        word = _answer_word(content)
        if word in YES_WORDS | NO_WORDS:
            return self._answer_pending(word, conversation, language)
        return self._ask_brain(message, conversation, content, language, tools)

    def _answer_pending(
        self, word: str, conversation: Conversation, language: str
    ) -> OutgoingMessage:
        """A yes or no: to the staged write of this conversation, if there is one; without
        one, 取消 / cancel stops the user's report being made."""
        pending = self._pending_action(conversation)
        if pending and word in YES_WORDS:
            return self._confirm(pending, conversation, language)
        if pending:
            self._close_pending(pending, PendingAction.Status.REJECTED)
            return OutgoingMessage(content=text("cancelled", language), language=language)
        if word in CANCEL_WORDS:
            return self._cancel_job(language)
        return OutgoingMessage(content=text("nothing_to_confirm", language), language=language)

    def _cancel_job(self, language: str) -> OutgoingMessage:
        job = jobs.cancel_latest(self.user)
        if job is None:
            return OutgoingMessage(content=text("nothing_to_cancel", language), language=language)
        key = "job_cancelled" if job.status == job.Status.CANCELLED else "job_cancelling"
        return OutgoingMessage(
            content=text(key, language, reference=job.reference), language=language
        )

    def _command(
        self, name: str, conversation: Conversation, language: str, tools: list
    ) -> OutgoingMessage:
        if name in ("help", "start"):
            return OutgoingMessage(content=help_text(language, tools), language=language)
        if name == "new":
            self._cancel_pending(conversation)
            conversation.context = {}
            return OutgoingMessage(content=text("new_conversation", language), language=language)
        if name == "cancel":
            if self._cancel_pending(conversation):
                return OutgoingMessage(content=text("cancelled", language), language=language)
            return self._cancel_job(language)
        if name == "jobs":
            return OutgoingMessage(
                content=jobs_text(jobs.recent_for(self.user), language), language=language
            )
        # The name is the user's own text: echo a short piece of it, never all of it.
        shown = name if len(name) <= COMMAND_ECHO_CHARS else name[:COMMAND_ECHO_CHARS] + "…"
        return OutgoingMessage(
            content=text("unknown_command", language, command=shown), language=language
        )

    def _ask_brain(
        self,
        message: IncomingMessage,
        conversation: Conversation,
        content: str,
        language: str,
        tools: list,
    ) -> OutgoingMessage:
        tool_context = ToolContext(
            user=self.user, channel=message.channel, conversation=conversation, language=language
        )

        attachments: list[int] = []

        def call_tool(name: str, params: dict[str, Any]) -> ToolResult:
            result = execute_tool(tool_context, name, params)
            if result.status == STATUS.STAGED:
                self._stage(result, conversation, message.channel)
            if result.ok and result.data.get("attachment"):
                attachments.append(result.data["attachment"])  # a report's file, ready
            return result

        turn = BrainTurn(
            text=content,
            language=language,
            user=self.user,
            context=dict(conversation.context),
            call_tool=call_tool,
            available_tools=tools,
        )
        reply: BrainReply = self._brain().respond(turn)
        conversation.context = {**conversation.context, **reply.context_updates}
        files = [{"type": "file", "job": job_id} for job_id in dict.fromkeys(attachments)]
        return OutgoingMessage(content=reply.text, parts=[*reply.parts, *files], language=language)

    def _brain(self):
        if self.brain is None:
            self.brain = get_brain()
        return self.brain

    # --- staged write actions -------------------------------------------------------------

    def _pending_action(self, conversation: Conversation) -> PendingAction | None:
        return (
            conversation.pending_actions.filter(status=PendingAction.Status.PENDING)
            .order_by("-created_at", "-id")
            .first()
        )

    def _stage(self, result: ToolResult, conversation: Conversation, channel: str) -> None:
        stage_pending(self.user, conversation, channel, result)

    def _cancel_pending(self, conversation: Conversation) -> int:
        return cancel_pending(conversation)

    def _close_pending(self, pending: PendingAction, status: str) -> bool:
        """Move a pending action out of `pending` exactly once; False if someone else did."""
        return bool(
            PendingAction.objects.filter(pk=pending.pk, status=PendingAction.Status.PENDING).update(
                status=status, decided_at=timezone.now()
            )
        )

    def _confirm(
        self, pending: PendingAction, conversation: Conversation, language: str
    ) -> OutgoingMessage:
        if pending.expires_at <= timezone.now():
            self._close_pending(pending, PendingAction.Status.EXPIRED)
            return OutgoingMessage(content=text("expired", language), language=language)
        if not self._close_pending(pending, PendingAction.Status.CONFIRMED):
            return OutgoingMessage(content=text("nothing_to_confirm", language), language=language)
        tool_context = ToolContext(
            user=self.user, channel=pending.channel, conversation=conversation, language=language
        )
        result = execute_tool(tool_context, pending.tool, pending.resolved_args, confirmed=True)
        pending.status = PendingAction.Status.EXECUTED if result.ok else PendingAction.Status.FAILED
        pending.result = result.to_dict()
        pending.save(update_fields=["status", "result"])
        return OutgoingMessage(content=render_result(result, language), language=language)
