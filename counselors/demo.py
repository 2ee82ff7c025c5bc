"""Demo data, counselors' part (`load_demo`): the demo counselors (profile, credential,
weekly and one-off availability), their profiles completed and verified through the
counselors services, and their availability windows.

The accounts themselves are signed up by the command (the sign-up workflow lives in
`workflows`); `counselor_seed` takes it from there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core.availability import ceil_quarter
from counselors.models import AvailabilityWindow, CounselorProfile, ToolkitItem
from counselors.services import (
    counselor_profile_update,
    counselor_verify,
    credential_add,
    offering_create,
    window_create,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEKDAYS = (MON, TUE, WED, THU, FRI)


@dataclass(frozen=True)
class Weekly:
    days: tuple[int, ...]
    start: str  # local wall-clock "HH:MM" in the counselor's zone
    end: str


@dataclass(frozen=True)
class DemoCounselor:
    username: str
    display_name: str
    timezone: str
    language: str  # UI language: zh-hans or en
    bio: str
    specialties: list[str]
    languages: list[str]
    modes: list[str]
    price_15: int
    price_30: int
    credential: tuple[str, str, str]  # licence type, number, issuing body
    weekly: list[Weekly]
    daily_cap: int = 8
    buffer_minutes: int = 0
    # One-off windows: "soon" (a couple of hours from now) and/or "tomorrow HH:MM-HH:MM" local.
    one_off: list[str] = field(default_factory=list)
    # Staff-checked crisis-intervention training: high-risk talk-now requests go to them first.
    crisis_trained: bool = False


COUNSELORS = [
    DemoCounselor(
        "demo-lin-yue",
        "林悦 · Lin Yue",
        "Asia/Shanghai",
        "zh-hans",
        "国家二级心理咨询师，在高校心理中心工作了八年。擅长焦虑、压力和失眠，晚上在线。"
        "只有 15 分钟也没关系，我们可以先聊最压在你心上的那一件事。\n\n"
        "Eight years at a university counselling centre. Anxiety, stress and sleep, in the evenings. "
        "Fifteen minutes is enough to start with the one thing weighing on you most.",
        ["anxiety", "stress", "sleep"],
        ["zh", "en"],
        ["text", "voice", "video"],
        60,
        100,
        (
            "国家二级心理咨询师 / Psychological Counselor, Level 2",
            "DEMO-CN-2-0001",
            "人力资源和社会保障部 / Ministry of Human Resources and Social Security",
        ),
        [Weekly((MON, WED, FRI), "20:00", "22:00"), Weekly((SAT,), "10:00", "12:00")],
        one_off=["soon"],
        crisis_trained=True,
    ),
    DemoCounselor(
        "demo-chen-mo",
        "陈默 · Chen Mo",
        "Asia/Shanghai",
        "zh-hans",
        "曾在安宁疗护病房做心理支持。失去亲人、宠物或一段关系之后，那些一直没说出口的话，"
        "可以在这里慢慢说。工作日午休时间在线。\n\n"
        "I used to give psychological support on a palliative care ward. After losing a person, a pet "
        "or a relationship, say what has gone unsaid, at your own pace. Online at weekday lunchtimes.",
        ["grief", "loneliness", "low-mood"],
        ["zh"],
        ["text", "async", "voice"],
        50,
        90,
        (
            "中国心理学会注册心理师 / CPS Registered Counselor",
            "DEMO-CPS-X-0002",
            "中国心理学会 / Chinese Psychological Society",
        ),
        [Weekly(WEEKDAYS, "12:00", "13:30"), Weekly((SUN,), "19:00", "21:00")],
        daily_cap=6,
    ),
    DemoCounselor(
        "demo-wong-ka-man",
        "黄嘉敏 · Wong Ka-man",
        "Asia/Hong_Kong",
        "zh-hans",
        "香港注册心理学家，粤语、普通话、英语都可以。关注亲密关系、原生家庭和性少数身份认同，"
        "这里是一个安全、不评判的空间。\n\n"
        "Registered psychologist in Hong Kong; Cantonese, Mandarin or English. Relationships, family of "
        "origin and LGBTQ+ identity, in a safe and non-judgemental space.",
        ["relationships", "family", "lgbtq"],
        ["yue", "zh", "en"],
        ["text", "voice", "video"],
        80,
        140,
        ("HKPS Registered Psychologist", "DEMO-HKPS-0003", "Hong Kong Psychological Society"),
        [Weekly((TUE, THU), "19:30", "22:00"), Weekly((SAT,), "14:00", "17:00")],
        buffer_minutes=15,
    ),
    DemoCounselor(
        "demo-zhou-ning",
        "周宁 · Zhou Ning",
        "Europe/Berlin",
        "zh-hans",
        "住在柏林的心理咨询师，也是两个孩子的妈妈。产后情绪、长期睡不够、为带娃分工吵架——"
        "趁宝宝午睡的时候，我们聊一聊。\n\n"
        "Counselor in Berlin and mother of two. Post-partum moods, never enough sleep, arguing over who "
        "does what with the baby: let's talk while the little one naps.",
        ["new-parents", "family", "sleep"],
        ["zh", "de", "en"],
        ["voice", "video", "async"],
        70,
        120,
        ("Heilpraktikerin für Psychotherapie", "DEMO-DE-HP-0004", "Gesundheitsamt Berlin"),
        [Weekly(WEEKDAYS, "13:00", "14:30")],
        daily_cap=5,
        one_off=["tomorrow 09:00-11:00"],
    ),
    DemoCounselor(
        "demo-li-xiaoyu",
        "李晓雨 · Li Xiaoyu",
        "America/New_York",
        "zh-hans",
        "纽约执照心理健康咨询师（LMHC），之前在互联网公司做过人力资源。职业转型、职场倦怠、"
        "“要不要辞职”，都可以聊。纽约的早上，正好是北京的晚上。\n\n"
        "Licensed mental health counselor in New York, formerly in tech HR. Career changes, burnout and "
        'the "should I quit?" question. New York mornings are evenings in Beijing.',
        ["career", "burnout", "stress"],
        ["zh", "en"],
        ["text", "video"],
        90,
        160,
        (
            "Licensed Mental Health Counselor (LMHC)",
            "DEMO-NY-LMHC-0005",
            "New York State Education Department",
        ),
        [Weekly((MON, TUE, THU, FRI), "07:00", "09:00"), Weekly((SAT,), "20:00", "22:00")],
    ),
    DemoCounselor(
        "demo-sato-yuki",
        "佐藤由纪 · Sato Yuki",
        "Asia/Tokyo",
        "zh-hans",
        "日本公认心理师，在东京的大学做学生咨询，中文、日语都可以。考试焦虑、留学适应、"
        "总觉得自己“不够好”——说出来会轻一点。\n\n"
        "Certified Public Psychologist in Japan, counselling students at a Tokyo university, in Japanese "
        "or Mandarin. Exam anxiety, settling in abroad, never feeling good enough: saying it helps.",
        ["anxiety", "study", "self-esteem"],
        ["ja", "zh", "en"],
        ["text", "async", "voice"],
        60,
        110,
        (
            "公認心理師 / Certified Public Psychologist",
            "DEMO-JP-0006",
            "厚生労働省 / Ministry of Health, Labour and Welfare",
        ),
        [Weekly((MON, WED, THU), "21:00", "23:00"), Weekly((SUN,), "10:00", "12:00")],
    ),
    DemoCounselor(
        "demo-wang-fang",
        "王芳 · Wang Fang",
        "Asia/Shanghai",
        "zh-hans",
        "退休前在社区医院做了三十年心理咨询。家长里短、婆媳关系、退休以后的空落落，"
        "您慢慢说，我慢慢听。白天在线。\n\n"
        "Thirty years as a counselor at a community hospital before I retired. Family matters, in-laws, "
        "the emptiness after retirement: take your time, I'm listening. Daytime sessions.",
        ["family", "loneliness", "grief"],
        ["zh"],
        ["voice", "text"],
        40,
        70,
        (
            "国家二级心理咨询师 / Psychological Counselor, Level 2",
            "DEMO-CN-2-0007",
            "人力资源和社会保障部 / Ministry of Human Resources and Social Security",
        ),
        [Weekly((TUE, WED, THU, SAT), "09:00", "11:30")],
        daily_cap=4,
    ),
    DemoCounselor(
        "demo-he-siyuan",
        "何思远 · He Siyuan",
        "Europe/London",
        "zh-hans",
        "在伦敦为留学生做心理支持的咨询师（BACP 注册会员）。论文压力、异乡的孤独、情绪低落，"
        "用你习惯的语言，在你方便的时间聊。\n\n"
        "BACP-registered counselor supporting international students in London. Dissertation pressure, "
        "being far from home, low mood: in your language, at a time that suits you.",
        ["study", "anxiety", "low-mood"],
        ["zh", "en"],
        ["text", "video", "async"],
        65,
        110,
        (
            "BACP Registered Member",
            "DEMO-BACP-0008",
            "British Association for Counselling and Psychotherapy",
        ),
        [Weekly(WEEKDAYS, "12:00", "13:30"), Weekly((SUN,), "18:00", "20:00")],
    ),
    DemoCounselor(
        "demo-zhao-lei",
        "赵磊 · Zhao Lei",
        "Asia/Shanghai",
        "zh-hans",
        "企业 EAP 咨询师，听过很多加班到深夜的程序员和销售的故事。职业倦怠、绩效焦虑、"
        "和领导相处的难题，下班后聊 15 分钟。\n\n"
        "EAP counselor who has heard from many late-working programmers and salespeople. Burnout, "
        "performance anxiety, trouble with the boss: fifteen minutes after work.",
        ["career", "burnout", "self-esteem"],
        ["zh"],
        ["text", "voice", "video"],
        80,
        150,
        (
            "国家二级心理咨询师 / Psychological Counselor, Level 2",
            "DEMO-CN-2-0009",
            "人力资源和社会保障部 / Ministry of Human Resources and Social Security",
        ),
        [Weekly((TUE, THU), "20:30", "22:30"), Weekly((SUN,), "14:00", "17:00")],
    ),
    DemoCounselor(
        "demo-emma-clarke",
        "柯安 · Emma Clarke",
        "Australia/Sydney",
        "en",
        "悉尼注册心理学家，在上海生活过五年，可以用中文日常交流。关注性少数身份认同、伴侣关系"
        "和自我接纳。\n\n"
        "Registered psychologist in Sydney; I lived in Shanghai for five years and speak everyday "
        "Mandarin. LGBTQ+ identity, couples and self-acceptance.",
        ["lgbtq", "relationships", "self-esteem"],
        ["en", "zh"],
        ["video", "voice", "text"],
        85,
        150,
        ("Registered Psychologist", "DEMO-AHPRA-PSY-0010", "Psychology Board of Australia (AHPRA)"),
        [Weekly((MON, TUE, WED, THU), "21:00", "23:00")],
        buffer_minutes=15,
    ),
    DemoCounselor(
        "demo-liu-qing",
        "刘青 · Liu Qing",
        "Asia/Shanghai",
        "zh-hans",
        "睡眠和情绪方向的心理咨询师。躺下以后脑子还是停不下来？可以先留一段文字或语音，"
        "我在约好的时间回复你。深夜在线。\n\n"
        "Counselor for sleep and mood. Mind still racing once you're in bed? Leave a text or voice "
        "message and I'll answer in our slot. Late evenings.",
        ["sleep", "stress", "low-mood"],
        ["zh"],
        ["async", "text", "voice"],
        45,
        80,
        (
            "中国心理学会注册心理师 / CPS Registered Counselor",
            "DEMO-CPS-X-0011",
            "中国心理学会 / Chinese Psychological Society",
        ),
        [Weekly((MON, TUE, WED, THU, FRI, SAT, SUN), "22:00", "23:30")],
        daily_cap=6,
    ),
    DemoCounselor(
        "demo-chan-wai-ming",
        "陈伟明 · Chan Wai-ming",
        "Asia/Hong_Kong",
        "zh-hans",
        "香港注册社工、辅导员，主要讲粤语。工作压力、照顾年迈的父母、上有老下有小的疲惫，"
        "午饭时间倾吓偈。\n\n"
        "Registered social worker and counselor in Hong Kong, mostly in Cantonese. Work stress, caring "
        "for ageing parents, the tiredness of the sandwich generation: a chat over lunch.",
        ["stress", "career", "family"],
        ["yue", "en"],
        ["text", "voice"],
        70,
        120,
        (
            "Registered Social Worker",
            "DEMO-HK-RSW-0012",
            "Social Workers Registration Board (Hong Kong)",
        ),
        [Weekly((MON, WED, FRI), "12:30", "14:00"), Weekly((SAT,), "10:00", "12:30")],
    ),
    DemoCounselor(
        "demo-xu-yan",
        "徐妍 · Xu Yan",
        "Asia/Shanghai",
        "zh-hans",
        "中国心理学会注册心理师，关注孕产期和新手父母的心理健康。宝宝出生后的焦虑、和伴侣的摩擦，"
        "不必等到“很严重了”才说。\n\n"
        "Registered with the Chinese Psychological Society; perinatal and new-parent mental health. "
        'Anxiety after the baby arrives, friction with your partner: no need to wait until it\'s "serious".',
        ["new-parents", "anxiety", "relationships"],
        ["zh", "en"],
        ["text", "async", "video"],
        55,
        95,
        (
            "中国心理学会注册心理师 / CPS Registered Counselor",
            "DEMO-CPS-X-0013",
            "中国心理学会 / Chinese Psychological Society",
        ),
        [Weekly((TUE, THU, SAT), "13:00", "14:30")],
        one_off=["soon", "tomorrow 19:00-21:00"],
    ),
    DemoCounselor(
        "demo-ji-yeon",
        "朴智妍 · Park Ji-yeon",
        "Asia/Seoul",
        "zh-hans",
        "首尔的心理咨询师，研究生在北京读的，韩语、中文、英语都可以。学业压力、一个人在外的孤独、"
        "什么都提不起劲的日子。\n\n"
        "Counselor in Seoul who did her master's in Beijing; Korean, Mandarin or English. Study "
        "pressure, loneliness far from home, days when nothing feels worth doing.",
        ["study", "loneliness", "low-mood"],
        ["ko", "zh", "en"],
        ["text", "async", "voice"],
        60,
        100,
        (
            "전문상담사 / Professional Counselor",
            "DEMO-KR-0014",
            "한국상담학회 / Korean Counseling Association",
        ),
        [Weekly((MON, WED, FRI, SUN), "20:00", "22:00")],
    ),
]


def _time(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def counselor_seed(
    user: User, spec: DemoCounselor, *, reviewer: User, new: bool
) -> tuple[CounselorProfile, int]:
    """Seed a signed-up demo counselor: when the account is `new`, complete, credential and
    verify (by `reviewer`) their profile; an existing one is left as it is. Then publish
    their windows unless they have a current one. Returns the profile and how many windows
    were created."""
    if new:
        _profile_complete(user, spec, reviewer=reviewer)
    profile = CounselorProfile.objects.select_related("user").get(pk=user.pk)
    if new:
        _offerings_seed(profile)
    return profile, _windows_seed(profile, spec)


# A few counselors package sessions with starter-library items (slugs of counselors'
# migration 0007): title, description (en, zh), minutes, modes, price, topics, items.
DEMO_OFFERINGS = {
    "demo-lin-yue": [
        (
            ("Five-minute stress reset", "五分钟压力重启"),
            (
                (
                    "A short, focused talk about what is pressing on you today, then box breathing "
                    "together. You keep the audio for next time."
                ),
                "简短聚焦地聊聊今天压在你心上的事，再一起做方块呼吸。音频留给你下次使用。",
            ),
            15,
            ["text", "voice"],
            "48",
            ["stress", "anxiety"],
            ["box-breathing", "grounding-5-4-3-2-1"],
        ),
        (
            ("Untangling an anxious thought", "理一理焦虑的想法"),
            (
                (
                    "Thirty minutes to look at one worry closely: we name the thinking traps in it "
                    "and you leave with an emotion diary to practise."
                ),
                "用三十分钟仔细看一个担忧：找出其中的思维陷阱，带走一份情绪日记继续练习。",
            ),
            30,
            ["text", "voice", "video"],
            "90",
            ["anxiety"],
            ["cognitive-distortions", "emotion-diary"],
        ),
    ],
    "demo-chen-mo": [
        (
            ("When the night is long", "漫长的夜里"),
            (
                (
                    "For evenings when sadness or loneliness is heavy: a gentle talk and a grounding "
                    "exercise to bring you back to the room."
                ),
                "在悲伤或孤独特别沉重的夜晚：温和地聊一聊，再做一个着陆练习，把你带回当下。",
            ),
            15,
            ["text", "async"],
            "40",
            ["loneliness", "low-mood"],
            ["grounding-5-4-3-2-1"],
        ),
    ],
}


def _offerings_seed(profile: CounselorProfile) -> int:
    """Publish the demo offerings of this counselor (through the service); returns how many."""
    made = 0
    for titles, descriptions, minutes, modes, price, topics, slugs in DEMO_OFFERINGS.get(
        profile.user.username, []
    ):
        items = ToolkitItem.objects.filter(owner=None, slug__in=slugs)
        offering_create(
            counselor=profile,
            title_en=titles[0],
            title_zh=titles[1],
            description_en=descriptions[0],
            description_zh=descriptions[1],
            duration_minutes=minutes,
            modes=[m for m in modes if m in profile.modes],
            price=Decimal(price),
            specialties=topics,
            items=[i.pk for i in items],
        )
        made += 1
    return made


def _profile_complete(user: User, spec: DemoCounselor, *, reviewer: User) -> None:
    profile = counselor_profile_update(
        profile=user.counselor_profile,
        specialties=spec.specialties,
        timezone=spec.timezone,
        display_name=spec.display_name,
        bio=spec.bio,
        languages=spec.languages,
        modes=spec.modes,
        price_15=Decimal(spec.price_15),
        price_30=Decimal(spec.price_30),
        daily_cap=spec.daily_cap,
        buffer_minutes=spec.buffer_minutes,
    )
    licence_type, number, issuing_body = spec.credential
    credential_add(
        profile=profile,
        licence_type=licence_type,
        number=number,
        issuing_body=issuing_body,
        valid_until=dt.date(2028, 12, 31),
    )
    counselor_verify(
        counselor_id=profile.pk,
        reviewer=reviewer,
        approved=True,
        note="Demo data: credentials accepted for the demo site.",
    )
    if spec.crisis_trained:
        CounselorProfile.objects.filter(pk=profile.pk).update(crisis_trained=True)


def _windows_seed(profile: CounselorProfile, spec: DemoCounselor) -> int:
    """Publish the counselor's windows unless they already have a current one; returns how
    many were created."""
    now = timezone.now()
    current = profile.windows.filter(
        Q(kind=AvailabilityWindow.Kind.WEEKLY)
        & (Q(valid_until__isnull=True) | Q(valid_until__gte=now.date() - dt.timedelta(days=1)))
        | Q(kind=AvailabilityWindow.Kind.ONE_OFF, end__gt=now)
    )
    if current.exists():
        return 0
    created = 0
    tz_name = profile.user.timezone
    for rule in spec.weekly:
        for day in rule.days:
            window_create(
                profile=profile,
                weekday=day,
                start_time=_time(rule.start),
                end_time=_time(rule.end),
                timezone_name=tz_name,
            )
            created += 1
    tz = ZoneInfo(tz_name)
    for one_off in spec.one_off:
        if one_off == "soon":  # bookable in an hour or so, whatever time the command runs
            start = ceil_quarter(now) + dt.timedelta(hours=1)
            end = start + dt.timedelta(hours=2)
        else:  # "tomorrow HH:MM-HH:MM", local to the counselor
            _word, span = one_off.split()
            first, last = (_time(t) for t in span.split("-"))
            tomorrow = now.astimezone(tz).date() + dt.timedelta(days=1)
            start = dt.datetime.combine(tomorrow, first, tzinfo=tz)
            end = dt.datetime.combine(tomorrow, last, tzinfo=tz)
        window_create(profile=profile, start=start, end=end)
        created += 1
    return created
