"""User-facing texts of the handler's own answers (binding, commands, confirmations) and of
the channels' notes on files sent as a link."""

TEXTS = {
    "unbound": {
        "zh": (
            "您好！这个聊天账号还没有绑定 ERP 用户，暂时无法查询数据。\n"
            "请在 ERP 中生成绑定码（或请管理员为您生成），然后发送：/bind 绑定码"
        ),
        "en": (
            "Hello! This chat account is not linked to an ERP user yet, so I can't look "
            "anything up for you.\nGet a binding code in the ERP (or ask an administrator), "
            "then send: /bind CODE"
        ),
    },
    "bind_usage": {"zh": "用法：/bind 绑定码", "en": "Usage: /bind CODE"},
    "bind_failed": {
        "zh": "绑定码无效或已过期，请重新获取绑定码。",
        "en": "That binding code is invalid or has expired. Please get a new one.",
    },
    "bound": {
        "zh": "绑定成功！您现在以 {name} 的身份使用 ERP 助手。发送 /help 查看可以问什么。",
        "en": "Linked! You now use the ERP assistant as {name}. Send /help to see what to ask.",
    },
    "inactive": {
        "zh": "您的 ERP 账号已停用，无法使用助手。如有疑问请联系管理员。",
        "en": "Your ERP account is disabled, so the assistant can't serve you. "
        "Please contact an administrator.",
    },
    "heard": {"zh": "（听到：{text}）", "en": "(Heard: {text})"},
    # No words, no language to tell: both.
    "voice_unheard": {
        "zh": "收到语音，但没有识别出文字，请用文字提问。"
        "\nI got a voice message but no transcription of it: please type your question.",
        "en": "收到语音，但没有识别出文字，请用文字提问。"
        "\nI got a voice message but no transcription of it: please type your question.",
    },
    "text_only": {
        "zh": "目前只支持文字消息，请用文字提问。",
        "en": "I can only read text messages for now. Please type your question.",
    },
    "new_conversation": {
        "zh": "好的，已开始新的对话。",
        "en": "OK, starting a new conversation.",
    },
    "cancelled": {
        "zh": "好的，已取消，没有做任何修改。",
        "en": "OK, cancelled. Nothing was changed.",
    },
    "nothing_to_cancel": {
        "zh": "当前没有待确认的操作，也没有正在生成的报表。",
        "en": "There is nothing to cancel: no pending action and no report being made.",
    },
    "confirm": {
        "zh": "请确认以下操作：\n{target}\n回复“是”确认，回复“否”取消。",
        "en": "Please confirm:\n{target}\nReply yes to confirm or no to cancel.",
    },
    "job_progress": {
        "zh": "报表任务 {reference} 进行中：已完成 {percent}%",
        "en": "Report job {reference}: {percent}% ({stage})",
    },
    "job_progress_done": {
        "zh": "报表任务 {reference} 已完成，文件马上发给你。",
        "en": "Report job {reference} is done; the file is on its way.",
    },
    "job_failed": {
        "zh": "抱歉，报表没有生成：{reason}",
        "en": "Sorry, the report could not be made: {reason}",
    },
    "job_internal": {
        "zh": "系统内部错误，已记录，运维人员会处理。",
        "en": "an internal error; it is logged for the operators.",
    },
    "job_denied": {
        "zh": "抱歉，报表没有生成：您已没有查看这类报表的权限。",
        "en": "Sorry, the report was not made: you may no longer see reports of this kind.",
    },
    "job_cancelled": {
        "zh": "已取消报表任务 {reference}，不会再发送文件。",
        "en": "Report job {reference} is cancelled; no file will be sent.",
    },
    "job_cancelling": {
        "zh": "正在停止报表任务 {reference}，不会再发送文件。",
        "en": "Stopping report job {reference}; no file will be sent.",
    },
    "nothing_to_confirm": {
        "zh": "当前没有待确认的操作。",
        "en": "There is nothing waiting for your confirmation.",
    },
    "expired": {
        "zh": "这个操作的确认已过期，没有执行。请重新发起。",
        "en": "That confirmation has expired and nothing was done. Please ask again.",
    },
    "too_long": {
        "zh": "消息太长了（{length} 字），我最多读 {limit} 字。请缩短后再发。",
        "en": "That message is too long ({length} characters); I read at most {limit}. "
        "Please shorten it and send it again.",
    },
    "rate_limited": {
        "zh": "您发消息太快了，请稍等一分钟再问。这一分钟内的其他消息我先不处理。",
        "en": "You're sending messages too fast. Please wait a minute; I'll skip the other "
        "messages you send this minute.",
    },
    "turn_failed": {
        "zh": "抱歉，处理您的消息时出了问题，没有做任何修改。请稍后再试；如需帮助，"
        "请把参考号 {reference} 告诉管理员。",
        "en": "Sorry, something went wrong with your message and nothing was changed. Please "
        "try again later; if you need help, give an administrator the reference {reference}.",
    },
    # A file sent as its link: one line per language, the channel cannot tell which one.
    "file_too_large": {
        "zh": "文件太大，无法通过{platform}直接发送（{size}，上限 {limit}），请用链接下载：",
        "en": "The file is too large for {platform} ({size}, limit {limit}); "
        "download it from the link:",
    },
    "unknown_command": {
        "zh": "不认识的命令 /{command}。发送 /help 查看可用命令。",
        "en": "Unknown command /{command}. Send /help to see the commands.",
    },
}


def text(key: str, language: str, **values: str) -> str:
    """The text for `key` in the language ("zh" or "en"), with values filled in."""
    variants = TEXTS[key]
    return variants.get(language, variants["en"]).format(**values)
