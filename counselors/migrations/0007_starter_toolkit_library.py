"""The starter toolkit library every counselor may use (owner null): an emotion diary, the ten
classic cognitive distortions as a checklist, a 5-4-3-2-1 grounding worksheet and box
breathing as a guided audio with its script. The audio ships in counselors/library/ (made
with espeak-ng and encoded to Ogg Opus once, so this runs on a machine without either) and
is copied into the default storage. Reversible: the items and the copied file are removed."""

from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import migrations

LIBRARY_DIR = Path(__file__).resolve().parent.parent / "library"
AUDIO_FILE = "box-breathing-en.ogg"
AUDIO_NAME = "toolkit-audio/library/box-breathing.ogg"

EMOTION_DIARY = {
    "slug": "emotion-diary",
    "kind": "diary",
    "title_en": "Emotion diary",
    "title_zh": "情绪日记",
    "body_en": (
        "When a strong feeling comes, write down what happened and what went through your "
        "mind. Looking at the thought on paper makes it easier to weigh it."
    ),
    "body_zh": "当强烈的情绪出现时，写下发生了什么、脑中闪过了什么想法。把想法写在纸上，更容易去衡量它。",
    "fields": [
        {"key": "situation", "label_en": "Situation", "label_zh": "情境", "type": "text"},
        {"key": "emotion", "label_en": "Emotion", "label_zh": "情绪", "type": "text"},
        {
            "key": "intensity",
            "label_en": "Intensity (0–10)",
            "label_zh": "强度（0–10）",
            "type": "scale",
        },
        {
            "key": "automatic-thought",
            "label_en": "Automatic thought",
            "label_zh": "自动化思维",
            "type": "text",
        },
        {
            "key": "evidence-for",
            "label_en": "Evidence for the thought",
            "label_zh": "支持这个想法的证据",
            "type": "text",
        },
        {
            "key": "evidence-against",
            "label_en": "Evidence against the thought",
            "label_zh": "反对这个想法的证据",
            "type": "text",
        },
        {
            "key": "reframe",
            "label_en": "A more balanced thought",
            "label_zh": "更平衡的想法",
            "type": "text",
        },
    ],
}

DISTORTIONS = [
    (
        "all-or-nothing",
        "All-or-nothing thinking",
        "全或无思维",
        "Seeing things in black and white: if it is not perfect, it is a failure.",
        "用非黑即白的方式看事情：不完美就是失败。",
    ),
    (
        "overgeneralisation",
        "Overgeneralisation",
        "过度概括",
        "One bad event becomes a never-ending pattern: “this always happens to me”.",
        "把一次不好的经历看成永远的规律：“我总是这样”。",
    ),
    (
        "mental-filter",
        "Mental filter",
        "心理过滤",
        "Dwelling on one negative detail until it colours everything else.",
        "只盯住一个负面细节，让它染黑了其余的一切。",
    ),
    (
        "disqualifying-the-positive",
        "Disqualifying the positive",
        "否定正面经验",
        "Good things “don’t count”: they were luck, or anyone could have done it.",
        "好的事情“不算数”：只是运气，或者谁都做得到。",
    ),
    (
        "jumping-to-conclusions",
        "Jumping to conclusions (mind reading, fortune telling)",
        "妄下结论（读心术、预言未来）",
        "Deciding what others think of you, or how things will turn out, without evidence.",
        "在没有证据的情况下，认定别人怎么看你，或事情一定会变糟。",
    ),
    (
        "magnification-minimisation",
        "Magnification and minimisation",
        "夸大与缩小",
        "Blowing up your mistakes and shrinking your strengths (or others’ the other way).",
        "放大自己的错误、缩小自己的优点（对别人则正好相反）。",
    ),
    (
        "emotional-reasoning",
        "Emotional reasoning",
        "情绪化推理",
        "Taking a feeling as a fact: “I feel useless, so I am useless”.",
        "把感受当成事实：“我觉得自己没用，所以我就是没用”。",
    ),
    (
        "should-statements",
        "Should statements",
        "“应该”式思维",
        "Rigid rules about how you or others “should” or “must” be, and guilt or anger after.",
        "对自己或他人“应该”“必须”怎样的僵硬规则，随之而来的是内疚或愤怒。",
    ),
    (
        "labelling",
        "Labelling",
        "贴标签",
        "Summing yourself or someone up in one harsh word instead of describing what happened.",
        "用一个刻薄的词概括自己或他人，而不是描述发生了什么。",
    ),
    (
        "personalisation",
        "Personalisation",
        "个人化",
        "Blaming yourself for things that were not, or not only, in your control.",
        "把不在（或不完全在）自己掌控之中的事情归咎于自己。",
    ),
]

DISTORTION_CHECKLIST = {
    "slug": "cognitive-distortions",
    "kind": "checklist",
    "title_en": "Ten common thinking traps",
    "title_zh": "十种常见的思维陷阱",
    "body_en": (
        "Read a recent upsetting thought, then tick the traps it falls into. Naming the trap "
        "is the first step to answering it."
    ),
    "body_zh": "回想一个最近让你难受的想法，勾选它落入的思维陷阱。给陷阱命名，是回应它的第一步。",
    "fields": [
        {"key": key, "label_en": en, "label_zh": zh, "explain_en": x_en, "explain_zh": x_zh}
        for key, en, zh, x_en, x_zh in DISTORTIONS
    ],
}

GROUNDING = {
    "slug": "grounding-5-4-3-2-1",
    "kind": "worksheet",
    "title_en": "5-4-3-2-1 grounding",
    "title_zh": "5-4-3-2-1 着陆练习",
    "body_en": (
        "When feelings run high, bring yourself back to the present through your senses. "
        "Go slowly, and name each thing, out loud or in writing."
    ),
    "body_zh": "当情绪高涨时，用感官把自己带回当下。慢慢来，把每样东西说出来或写下来。",
    "fields": [
        {"key": "see", "label_en": "5 things you can see", "label_zh": "你能看到的 5 样东西"},
        {"key": "touch", "label_en": "4 things you can touch", "label_zh": "你能触摸到的 4 样东西"},
        {"key": "hear", "label_en": "3 things you can hear", "label_zh": "你能听到的 3 种声音"},
        {"key": "smell", "label_en": "2 things you can smell", "label_zh": "你能闻到的 2 种气味"},
        {"key": "taste", "label_en": "1 thing you can taste", "label_zh": "你能尝到的 1 种味道"},
    ],
}

BOX_BREATHING = {
    "slug": "box-breathing",
    "kind": "audio",
    "title_en": "Box breathing",
    "title_zh": "方块呼吸",
    "body_en": (
        "Sit comfortably and let your shoulders drop. Breathe out fully.\n"
        "Breathe in through your nose for a count of four.\n"
        "Hold your breath for four.\n"
        "Breathe out slowly through your mouth for four.\n"
        "Hold, empty, for four.\n"
        "Repeat three to five rounds, then let your breath return to its own rhythm and "
        "notice how you feel."
    ),
    "body_zh": (
        "舒服地坐好，放松肩膀，先把气完全呼出。\n"
        "用鼻子吸气，数四下。\n"
        "屏住呼吸，数四下。\n"
        "用嘴慢慢呼气，数四下。\n"
        "呼空后停住，数四下。\n"
        "重复三到五轮，然后让呼吸回到自然的节奏，留意自己现在的感受。"
    ),
    "fields": [],
}

ITEMS = [EMOTION_DIARY, DISTORTION_CHECKLIST, GROUNDING, BOX_BREATHING]


def add_library(apps, schema_editor):
    ToolkitItem = apps.get_model("counselors", "ToolkitItem")
    for spec in ITEMS:
        item, created = ToolkitItem.objects.get_or_create(
            owner=None, slug=spec["slug"], defaults={k: v for k, v in spec.items() if k != "slug"}
        )
        if created and spec["kind"] == "audio":
            name = AUDIO_NAME
            if not default_storage.exists(name):  # kept from an earlier run: the same bytes
                with (LIBRARY_DIR / AUDIO_FILE).open("rb") as source:
                    name = default_storage.save(AUDIO_NAME, File(source, name=AUDIO_FILE))
            item.audio.name = name
            item.audio_content_type = "audio/ogg"
            item.audio_seconds = 55.15
            item.save(update_fields=["audio", "audio_content_type", "audio_seconds"])


def remove_library(apps, schema_editor):
    ToolkitItem = apps.get_model("counselors", "ToolkitItem")
    items = ToolkitItem.objects.filter(owner=None, slug__in=[s["slug"] for s in ITEMS])
    for name in items.exclude(audio="").values_list("audio", flat=True):
        default_storage.delete(name)
    items.delete()


# tests/conftest.py seed_reference_data re-seeds after a transactional test's flush.
seed = add_library


class Migration(migrations.Migration):
    dependencies = [("counselors", "0006_offerings_toolkit_items")]

    operations = [migrations.RunPython(add_library, remove_library)]
