"""Unit tests of ethics.detector.crisis_detect: pure function, no database."""

import pytest

from ethics.detector import HIGH, LOW, NONE, Detection, crisis_detect, expand, normalize

# One or more cases per category, Chinese and English. Each must be `high`.
HIGH_CASES = [
    # suicidal ideation, active and passive (C-SSRS items 1-2, PHQ-9 item 9)
    "我不想活了",
    "活着没意思",
    "我想结束这一切",
    "最近总有轻生的念头",
    "我好想死",
    "真的不如死了算了",
    "死了就解脱了",
    "每天都不想醒来",
    "为什么我还活着",
    "I want to kill myself",
    "I've been thinking about suicide",
    "I wish I were dead",
    "I just want to go to sleep and never wake up",
    "Life isn't worth living anymore",
    "I don't see any reason to keep living",
    "I can't stop thinking about killing myself",
    # plan, method, means
    "我攒了一瓶安眠药",
    "我偷偷藏了一瓶农药",
    "买了炭和胶带，准备烧炭",
    "我站在楼顶，想跳下去",
    "我查了吃多少片安眠药会死",
    "I've been saving up my pills",
    "I took a whole bottle of pills an hour ago",
    "I'm on the ledge and I'm going to jump",
    "I'm going to hang myself",
    "I bought charcoal and I'm going to seal the bathroom",
    "I drank pesticide",
    # self-harm
    "我又割腕了",
    "昨天用小刀划了手臂",
    "我经常用刀片割自己",
    "I cut myself again last night",
    "I hurt myself on purpose",
    "I've been burning myself with cigarettes",
    # goodbyes and final arrangements
    "我把遗书放在桌子上了",
    "这是我最后一次跟你说话了，再见",
    "我把存款都转给我妹了",
    "I'm saying goodbye to everyone tonight",
    "I've given away most of my things",
    "my suicide note is already written",
    # burdensomeness (Joiner)
    "我是家人的拖累",
    "没有我他们会过得更好",
    "everyone would be better off without me",
    "I'm such a burden to my family",
]

# Everyday hyperbole, negation, third-person / research / news / fiction / prevention work.
NONE_CASES = [
    "累死了",
    "笑死",
    "哈哈哈笑死我了",
    "好久不见，想死你了！",
    "热死了，空调又坏了",
    "饿死了",
    "这个跳楼价太划算了",
    "我家的紫砂壶是爷爷留下的",
    "this exam is killing me",
    "I'm dying to see you",
    "I'm dead tired",
    "I cut my finger cooking",
    "Just killing time before class",
    "I'd rather die than sing karaoke",
    "That joke killed me",
    "I'm drowning in homework",
    # negation
    "I'm not suicidal",
    "我没有想自杀",
    "我从来没想过要伤害自己",
    "I would never hurt myself",
    "I have never had thoughts of hurting myself",
    "我并不想死",
    # research, news, fiction, prevention work
    "I volunteer for a suicide prevention hotline",
    "我在自杀干预热线做志愿者",
    "I'm writing my thesis on suicide",
    "The news said suicide rates went up",
    "新闻报道说某地青少年自杀率上升",
    "这部电影讲的是一个女孩自杀后家人的故事",
    "我们社会学课在讲涂尔干的《自杀论》",
    "I'm reading a novel about suicide",
    "The character in the film jumps off a bridge at the end",
    "我在写一篇关于青少年自伤行为的论文",
    # accidents
    "I cut myself shaving this morning",
    "切菜的时候不小心割到手指了",
    # ordinary talk
    "我最近工作压力很大",
    "I want to end my contract early",
    "我想结束单身",
]

LOW_CASES = [
    # hopelessness without self-harm content (low by design)
    "很绝望",
    "撑不下去了",
    "I can't go on like this",
    "I feel hopeless",
    # someone else's risk
    "我朋友割腕了",
    "my friend said she wants to kill herself",
    # a counsellor's question
    "你有没有想过自杀？",
    "Have you had any thoughts of suicide?",
]


@pytest.mark.parametrize("text", HIGH_CASES)
def test_high(text):
    detection = crisis_detect(text)
    assert detection.risk == HIGH, detection
    assert detection.reasons


@pytest.mark.parametrize("text", NONE_CASES)
def test_none(text):
    detection = crisis_detect(text)
    assert detection.risk == NONE, detection
    assert detection.reasons == []


@pytest.mark.parametrize("text", LOW_CASES)
def test_low(text):
    assert crisis_detect(text).risk == LOW


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我好想死", "suicidal-ideation: 想死"),
        ("我不想活了", "suicidal-ideation: 不想活"),
        ("I want to kill myself", "suicidal-ideation: kill myself"),
        ("I've been saving up my pills", "suicide-means: saving up…pills"),
    ],
)
def test_reasons_name_category_and_phrase(text, expected):
    assert expected in crisis_detect(text).reasons


@pytest.mark.parametrize(
    "text, rule",
    [
        ("I'm not suicidal", "negated: not"),
        ("我没有想自杀", "negated: 没有"),
        ("想死你了", "hyperbole: 想死你"),
        ("I'm writing my thesis on suicide", "research/media/work context: thesis"),
    ],
)
def test_ignored_matches_say_which_rule(text, rule):
    detection = crisis_detect(text)
    assert detection.risk == NONE
    assert any(rule in entry for entry in detection.ignored), detection.ignored


class TestNegation:
    @pytest.mark.parametrize(
        "text",
        [
            "I can't stop thinking about killing myself",  # "can't stop" is no negation
            "我忍不住想自杀",  # 忍不住 is one jieba word
            "我不知道为什么总想自杀",
            "我不止一次想过轻生",
            "I have never felt so suicidal",  # comparison, not negation
            "我从来没有这么想死过",
            "no one would notice if I disappeared forever",
            "I'm not okay and I want to die",  # the negation belongs to the first clause
            "not gonna lie i want to die",
            "I'm not suicidal, but I've been cutting myself",
        ],
    )
    def test_apparent_negations_do_not_hide_risk(self, text):
        assert crisis_detect(text).risk == HIGH

    @pytest.mark.parametrize(
        "text",
        [
            "I don't want to live anymore",  # the negation is part of the phrase
            "我真的不想再活下去了",
            "There's no reason to live",
            "I don't want to die but I don't want to live either",
        ],
    )
    def test_phrases_with_their_own_negation(self, text):
        assert crisis_detect(text).risk == HIGH

    def test_double_clause(self):
        detection = crisis_detect("I'm not suicidal, I just want to sleep and never wake up")
        assert detection.risk == HIGH
        assert any("negated" in entry for entry in detection.ignored)


class TestPersonAndContext:
    @pytest.mark.parametrize(
        "text",
        [
            "我和朋友吵架后割腕了",  # 朋友 is governed by 和: the writer cut
            "我一个大学生压力大到想死",  # apposition: the writer
            "My therapist asked if I was suicidal",  # "I" is closer than the cue
            "I got bad news, suicide is the only way out",  # the cue is in another clause
            "I read a book about it and now I want to kill myself",  # names the writer
        ],
    )
    def test_writer_is_the_subject(self, text):
        assert crisis_detect(text).risk == HIGH

    @pytest.mark.parametrize(
        "text",
        [
            "我妈想自杀",
            "他说他想跳楼，我很担心他",
            "我有个想自杀的朋友",  # relative clause: the friend
            "我是心理咨询师，今天接了一个有自杀意念的来访者",
        ],
    )
    def test_third_person_is_low(self, text):
        detection = crisis_detect(text)
        assert detection.risk == LOW
        assert any("third person" in reason for reason in detection.reasons)

    def test_reported_question_is_low(self):
        assert crisis_detect("医生问我有没有想过伤害自己，我说没有").risk == LOW

    def test_quoted_speech_is_judged_by_its_speaker(self):
        assert crisis_detect("她在日记里写“我想死”").risk == LOW
        assert crisis_detect("小说里的主角说“我想死”").risk == NONE


def test_combined_low_signs_escalate():
    assert crisis_detect("I bought a rope today").risk == LOW
    detection = crisis_detect("I bought a rope today and I can't take it anymore")
    assert detection.risk == HIGH
    assert any(reason.startswith("combined warning signs") for reason in detection.reasons)


def test_repeated_hopelessness_stays_low():
    assert crisis_detect("我好绝望，真的撑不下去了，一切都没有意义").risk == LOW


class TestLanguages:
    @pytest.mark.parametrize(
        "text",
        [
            "活著真的沒有意思",  # traditional characters
            "我寫好遺書了，放在抽屜裡",
            "我已經想好怎麼自殺了",
            "我真的 want to die，好累",  # mixed
            "感觉 everyone would be better off without me",
            "I'm SO suicidal right now",
            "i feel so suicidial today",  # misspelling
            "su1c1dal thoughts again",  # leetspeak
            "feeling s u i c i d a l",  # spelled out
            "honestly i wanna kms",  # slang
            "I’m going to kill myself",  # typographic apostrophe
            "Ｉ ｗａｎｔ ｔｏ ｄｉｅ",  # full-width letters
            "我 想 死",  # spaced Chinese
        ],
    )
    def test_variants(self, text):
        assert crisis_detect(text).risk == HIGH

    def test_english_phrases_match_whole_words_only(self):
        assert crisis_detect("I'm on a diet").risk == NONE  # "die" inside "diet"
        assert crisis_detect("Our studio is killing it").risk == NONE


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_none_and_unscored(text):
    assert crisis_detect(text) == Detection(NONE, [], [])


@pytest.mark.parametrize("text", ["。。。", "ok"])
def test_trivial_text_is_none_without_cues(text):
    detection = crisis_detect(text)
    assert (detection.risk, detection.reasons, detection.ignored, detection.cues) == (
        NONE,
        [],
        [],
        [],
    )


def test_very_long_text():
    # Performance is not asserted by time; the point is that long input works and the
    # crisis sentence at the end is still found.
    filler_zh = "今天工作很累，老板又骂我了。" * 5000
    filler_en = "I had a long day at work and my boss yelled at me. " * 5000
    assert crisis_detect(filler_zh + filler_en).risk == NONE
    assert crisis_detect(filler_zh + filler_en + "我不想活了。").risk == HIGH
    many = crisis_detect("我想死。I want to die. " * 3000)
    assert many.risk == HIGH
    assert 0 < len(many.reasons) <= 50


def test_detection_as_dict():
    detection = crisis_detect("I'm not suicidal, I want to kill myself")
    assert detection.as_dict() == {"risk": HIGH, "reasons": ["suicidal-ideation: kill myself"]}
    assert detection.as_dict(explain=True)["ignored"] == [
        "suicidal-ideation: suicidal (negated: not)"
    ]


class TestNormalize:
    @pytest.mark.parametrize(
        "raw, expected",
        [
            ("I’M Not OK", "im not ok"),
            ("self-harm", "self harm"),
            ("k.m.s", "kms"),
            ("活著", "活着"),
            ("ｓｕｉｃｉｄｅ", "suicide"),
            ("3.5 hours", "3.5 hours"),
            ("我 想 死", "我想死"),
        ],
    )
    def test_normalize(self, raw, expected):
        assert normalize(raw) == expected


def test_expand():
    assert expand("kill{|ing} myself") == ["kill myself", "killing myself"]
    assert expand("{a|{b|c} d}") == ["a", "b d", "c d"]
