"""The consent to process health information (PIPL art. 29 asks for a separate consent for
sensitive personal information; HIPAA is in the same spirit), as data.

A new wording gets a new version: add it to TEXTS and point CURRENT_VERSION at it. Clients who
agreed to an older version are asked again before their next intake or booking. Old versions
stay here so that what someone agreed to can always be shown again.
"""

CURRENT_VERSION = "2026-11"

LANGUAGES = ("zh-hans", "en")

TEXTS: dict[str, dict[str, str]] = {
    "2026-11": {
        "en": (
            "Consent to process your health information\n\n"
            "What we collect: the topic you want to talk about, how distressed you feel right now (0–10), "
            "your answers to four short questions on anxiety and mood (PHQ-4), your answer to one question "
            "on thoughts of being better off dead or of hurting yourself, and what you share in your "
            "sessions and messages.\n\n"
            "Why: to match you with a suitable counselor, to keep you safe, and to respond quickly if you "
            "may be in danger. Your answers are never used for advertising and never sold.\n\n"
            "Who sees it: your counselor. If there are signs you may be in danger, the on-call supervisors "
            "who respond to crises. Pianke staff only when they review a complaint or a safety concern, and "
            "every such access is logged.\n\n"
            "How long: for as long as you have an account, or until you ask us to delete it, except where "
            "the law requires us to keep a record for longer.\n\n"
            "Your choice: this consent is separate from our terms and you can withdraw it at any time. "
            "After you withdraw, we stop processing your health information: you will not be able to "
            "fill in the intake or book sessions until you agree again. You can delete your account and "
            "data from your account page.\n\n"
            "If you are in danger right now, please call your local emergency number."
        ),
        "zh-hans": (
            "健康信息处理同意书\n\n"
            "我们收集什么：你想聊的话题、你此刻的痛苦程度（0–10）、关于焦虑和情绪的四个简短问题"
            "（PHQ-4）的回答、一个关于“觉得自己死了更好”或伤害自己的念头的问题的回答，"
            "以及你在咨询和留言中分享的内容。\n\n"
            "为什么收集：为你匹配合适的咨询师，保护你的安全，并在你可能有危险时尽快回应。"
            "你的回答绝不会用于广告，也绝不会出售。\n\n"
            "谁能看到：你的咨询师。出现你可能有危险的迹象时，负责危机回应的值班督导。"
            "只有在处理投诉或安全问题时，片刻的工作人员才会查看，并且每次查看都会被记录。\n\n"
            "保存多久：在你的账户存在期间，或直到你要求删除为止；法律要求保留更久的记录除外。\n\n"
            "你的选择：这份同意独立于我们的服务条款，你可以随时撤回。撤回后，我们将停止处理你的健康信息："
            "在你重新同意之前，你将无法填写初始问卷或预约咨询。你可以在账户页面删除你的账户和数据。\n\n"
            "如果你现在有危险，请立即拨打当地的紧急电话（如 120 或 110）。"
        ),
    },
}

WITHDRAWN_MESSAGE = {
    "en": (
        "Your consent is withdrawn: we have stopped processing your health information. You can delete "
        "your account and data from your account page. To book again, agree to the consent and fill in "
        "the intake again."
    ),
    "zh-hans": (
        "你已撤回同意：我们已停止处理你的健康信息。你可以在账户页面删除你的账户和数据。"
        "如需再次预约，请重新同意并再次填写初始问卷。"
    ),
}

LONGER_TERM_CARE_MESSAGE = {
    "en": (
        "Thank you for answering so honestly. Your answers suggest you are carrying a lot right now. "
        "Short listening sessions are still here for you, and you can book one. Alongside them, "
        "longer-term support, such as ongoing counseling or a visit to a hospital's psychiatry or "
        "psychology department, may help more over time. Here are some places to start."
    ),
    "zh-hans": (
        "谢谢你如实作答。从你的回答来看，你最近承受了很多。短时倾听依然在这里，你可以照常预约。"
        "与此同时，更长期的支持，比如持续的心理咨询，或到医院的精神科、心理科就诊，"
        "可能会在更长的时间里给你更多帮助。下面是一些可以开始的地方。"
    ),
}


def pick_language(language: str | None) -> str:
    """zh-hans or en from a language code (zh, zh-cn, zh-hans, en-gb ...); Chinese by default."""
    code = (language or "").lower()
    return "en" if code.startswith("en") else "zh-hans"


def consent_text(version: str = CURRENT_VERSION, language: str | None = None) -> str:
    return TEXTS[version][pick_language(language)]
