"""Off-platform contact detection: a pure text check for phone numbers, WeChat / QQ ids,
e-mail addresses and social-media handles (platform rules forbid moving a client off the
platform, in either direction). No database; `ethics.services.text_screen` calls it."""

from __future__ import annotations

import itertools
import re

import phonenumbers

_CN_DIGITS = str.maketrans(
    "零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖幺", "00123456789123456789" + "1"
)
# Digits written apart ("1 3 8-0013 8000", "138.0013.8000") are joined before phone matching.
_SPACED_DIGITS = re.compile(r"(?<!\d)(?:\d[\s\-.·_/]{0,3}){7,15}\d(?!\d)")
_WECHAT = re.compile(
    r"(?:微信号?|威信|薇信|维信|徽信|V信|vx|wx|weixin|wechat|we\s?chat)\s*(?:id|号)?\s*(?:是|:|：|-)?\s*"
    r"([A-Za-z][-_A-Za-z0-9]{5,19})",
    re.IGNORECASE,
)
_WECHAT_MENTION = re.compile(
    r"加(?:我|个)?(?:微信|微|V|vx|wx|威信|薇信)|add me on we\s?chat|my we\s?chat", re.IGNORECASE
)
_QQ = re.compile(
    r"(?:qq|扣扣|企鹅)\s*(?:号|群)?\s*(?:是|:|：|-)?\s*([1-9]\d{4,11})(?!\d)", re.IGNORECASE
)
# Each local part starts where a run of its characters starts (the lookbehind): without it a
# long run with no "@" ("xxxx…", 4,000 characters) is rescanned from every position, seconds
# of CPU per message.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+\s*[@＠]\s*[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
# "jane at gmail dot com", "jane(at)qq(dot)com"
_EMAIL_SPELLED = re.compile(
    r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9._%+\-]+)\s*(?:\(at\)|\[at\]|\sat\s)\s*([A-Za-z0-9\-]+)\s*"
    r"(?:\(dot\)|\[dot\]|\sdot\s)\s*(com|net|org|cn|edu|hk|tw|io|me|co)\b",
    re.IGNORECASE,
)
_SOCIAL = re.compile(
    r"(?<![A-Za-z])(telegram|tg|whatsapp|line|instagram|ins|facebook|fb|twitter|discord|snapchat|skype|"
    r"weibo|微博|抖音|douyin|小红书|xhs|钉钉|dingtalk|kakao)\s*(?:id|号)?\s*(?:是|:|：)\s*@?([A-Za-z0-9_.\-]{3,30})",
    re.IGNORECASE,
)
_SOCIAL_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t\.me|wa\.me|instagram\.com|facebook\.com|fb\.me|"
    r"twitter\.com|x\.com|weibo\.com|xiaohongshu\.com|douyin\.com|u\.wechat\.com)/[\w.\-/]+",
    re.IGNORECASE,
)
_AT_HANDLE = re.compile(r"(?:(?<=\s)|^)@([A-Za-z][A-Za-z0-9_.]{2,29})\b")
# Personal numbers only: service lines (toll-free, shared-cost, premium, UAN) are how hotlines publish.
_PHONE_REGIONS = ("CN", "HK", "TW", "MO", "US", "GB")


# No personal number in the regions above has fewer digits than this (mobiles have 8 to 11,
# fixed lines 7 or more with the area code); the matcher costs about 6% of a chat message, so
# a text with fewer digits in all is not run through it.
_PHONE_MIN_DIGITS = 7


# Where a phone number could be: 7 to 17 digits, maybe after "+" or "(", with at most three
# separators between two digits, and no digit right before or after. The matcher runs on these
# spans alone: on a whole 4,000-character message full of digits it took most of a second.
_PHONE_SPAN = re.compile(r"(?<!\d)[+(]?\d(?:[\s\-.()·_/]{0,3}\d){6,16}(?!\d)")
# A message with more spans than this is not a conversation; the first ones are enough to flag it.
_PHONE_MAX_SPANS = 20
_PERSONAL = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
}


def _phones(text: str) -> list[str]:
    if sum(ch.isdigit() for ch in text) < _PHONE_MIN_DIGITS:
        return []
    found: dict[str, str] = {}
    for span in itertools.islice(_PHONE_SPAN.finditer(text), _PHONE_MAX_SPANS):
        raw = span.group(0)
        for candidate in dict.fromkeys([raw, _SPACED_DIGITS.sub(_digits_only, raw)]):
            for region in _PHONE_REGIONS:
                for match in phonenumbers.PhoneNumberMatcher(
                    candidate, region, leniency=phonenumbers.Leniency.VALID
                ):
                    if phonenumbers.number_type(match.number) not in _PERSONAL:
                        continue
                    # One number, one reason: the first region (CN first) that reads it wins.
                    found.setdefault(
                        re.sub(r"\D", "", match.raw_string),
                        phonenumbers.format_number(
                            match.number, phonenumbers.PhoneNumberFormat.E164
                        ),
                    )
    return list(dict.fromkeys(found.values()))


def _digits_only(match: re.Match) -> str:
    return re.sub(r"\D", "", match.group(0))


def off_platform_contact_detect(text: str) -> list[str]:
    """Contact details that would take a session off the platform, as `kind: value` strings
    (`phone: +8613800138000`, `wechat: abc_123`, `qq: 12345678`, `email: a@b.cn`,
    `social: telegram alice`, `social: @alice`). Empty when there are none. Pure: no database."""
    if not text:
        return []
    norm = text.translate(_CN_DIGITS)
    # Full-width letters and digits to ASCII.
    norm = "".join(chr(ord(c) - 0xFEE0) if "！" <= c <= "～" else c for c in norm)
    reasons: list[str] = []
    reasons += ["email: " + re.sub(r"\s+", "", m.group(0)) for m in _EMAIL.finditer(norm)]
    reasons += [
        f"email: {m.group(1)}@{m.group(2)}.{m.group(3)}" for m in _EMAIL_SPELLED.finditer(norm)
    ]
    rest = _EMAIL_SPELLED.sub(" ", _EMAIL.sub(" ", norm))
    reasons += [f"wechat: {m.group(1)}" for m in _WECHAT.finditer(rest)]
    if not any(r.startswith("wechat:") for r in reasons) and _WECHAT_MENTION.search(rest):
        reasons.append("wechat: (asked to add)")
    reasons += [f"qq: {m.group(1)}" for m in _QQ.finditer(rest)]
    reasons += [f"social: {m.group(0)}" for m in _SOCIAL_LINK.finditer(rest)]
    rest = _SOCIAL_LINK.sub(" ", rest)
    reasons += [f"social: {m.group(1).lower()} {m.group(2)}" for m in _SOCIAL.finditer(rest)]
    reasons += [f"social: @{m.group(1)}" for m in _AT_HANDLE.finditer(_SOCIAL.sub(" ", rest))]
    reasons += [f"phone: {p}" for p in _phones(_QQ.sub(" ", rest))]
    return list(dict.fromkeys(reasons))
