"""The Columbia Suicide Severity Rating Scale, screen version ("Screen Version - Recent",
Posner et al., the Columbia Lighthouse Project), as the counselor asks it in the room.

The wording is the instrument's, so it is kept here as data in both languages rather than
translated through the UI catalogue. The Chinese follows the published Chinese screen; a
Chinese-speaking clinician should check it against the licensed version before launch."""

from __future__ import annotations

# (field, English, Chinese), in the order asked. 3-5 follow a yes to 2; the 3-month
# question follows a yes to 6.
QUESTIONS = (
    (
        "q1_wish_dead",
        (
            "In the past month, have you wished you were dead or wished you could go to sleep "
            "and not wake up?"
        ),
        "在过去一个月里，你是否希望自己死去，或者希望自己睡着后不再醒来？",
    ),
    (
        "q2_thoughts",
        "In the past month, have you had any actual thoughts of killing yourself?",
        "在过去一个月里，你是否真的有过想要自杀的念头？",
    ),
    (
        "q3_method",
        "In the past month, have you been thinking about how you might do this?",
        "在过去一个月里，你是否想过可能会怎样去做？",
    ),
    (
        "q4_intent",
        "In the past month, have you had these thoughts and had some intention of acting on them?",
        "在过去一个月里，你是否有过这些念头，并且有一些想要付诸行动的意图？",
    ),
    (
        "q5_plan",
        (
            "In the past month, have you started to work out or worked out the details of how to "
            "kill yourself? Do you intend to carry out this plan?"
        ),
        "在过去一个月里，你是否已经开始计划或已经计划好如何自杀的细节？你打算执行这个计划吗？",
    ),
    (
        "q6_behavior",
        (
            "Have you ever done anything, started to do anything, or prepared to do anything to "
            "end your life?"
        ),
        "你是否曾经做过、开始做过或准备做任何结束自己生命的事情？",
    ),
    ("q6_recent", "Was this within the past 3 months?", "这是在过去三个月以内吗？"),
)
FOLLOW_UP_OF_Q2 = ("q3_method", "q4_intent", "q5_plan")


def questions(language: str) -> list[dict]:
    """The questions in the reader's language ("en", otherwise Chinese)."""
    english = language == "en"
    return [
        {
            "field": name,
            "text": en if english else zh,
            "after": "q2_thoughts"
            if name in FOLLOW_UP_OF_Q2
            else ("q6_behavior" if name == "q6_recent" else ""),
        }
        for name, en, zh in QUESTIONS
    ]
