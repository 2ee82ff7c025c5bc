"""Conversation-level triage, the pure part (ethics/conversation.py): the rule table in
ethics/lexicon/rules.tsv (each rule fires, each veto holds), the cue files, the window."""

import pytest

from ethics.conversation import (
    CHECK,
    RULE_CATEGORIES,
    SINGLE_MESSAGE_RULE,
    THIRD_PARTY_RULE,
    Cue,
    MessageScreen,
    conversation_assess,
    conversation_outcomes,
    rules,
)
from ethics.detector import (
    CUE_CATEGORIES,
    HIGH,
    LEARNED,
    NONE,
    _read_tsv,
    crisis_detect,
    rules_detect,
)


def screen(*cues: tuple[str, int], person: str = "", message: int = 1) -> MessageScreen:
    return MessageScreen(
        message, False, tuple(Cue(c, f"{c} phrase", w, person, message) for c, w in cues)
    )


def weights_for(rule) -> list[int]:
    """Weights that reach the rule's minimum exactly, the first category carrying the rest."""
    n = len(rule.categories)
    return [rule.min_weight - (n - 1)] + [1] * (n - 1)


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.name)
def test_each_rule_fires_on_its_categories(rule):
    cues = list(zip(rule.categories, weights_for(rule)))
    if LEARNED in rule.categories:
        # One text: its learned cue keeps its weight (over several texts it counts less,
        # test_one_learned_cue_among_several_texts_is_supporting_only).
        assessment = conversation_assess([screen(*cues, message=1)])
    else:
        assessment = conversation_assess(
            [screen(*cues[:1], message=1), screen(*cues[1:], message=2)]
        )
    assert (assessment.rule, assessment.level) == (rule.name, rule.outcome)
    assert {c[0] for c in assessment.cues} == set(rule.categories)
    assert {c[1] for c in assessment.cues} <= {1, 2}  # the message ids behind the rule


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.name)
def test_each_rule_needs_its_minimum_weight(rule):
    weights = weights_for(rule)
    weights[0] -= 1
    if weights[0] < 1:
        pytest.skip("already at the lowest weight")
    assessment = conversation_assess([screen(*zip(rule.categories, weights))])
    assert assessment.rule != rule.name


def test_rule_table_names_a_source_and_known_categories():
    rows = _read_tsv("rules.tsv")
    assert rows and all(row["source"] for row in rows)
    for rule in rules():
        assert set(rule.categories) <= set(RULE_CATEGORIES)


@pytest.mark.parametrize("name", ["cues.tsv", "cue_pairs.tsv"])
def test_cue_files_have_a_source_per_entry_and_known_categories(name):
    rows = _read_tsv(name)
    assert rows
    assert all(row["source"] and row["category"] in CUE_CATEGORIES for row in rows)
    assert {row["lang"] for row in rows} <= {"zh", "en"}


def test_supporting_cues_alone_are_quiet():
    """Saying goodbye before a flight tonight: two weight-1 cues do not reach any rule."""
    assert conversation_assess([screen(("finality", 1), ("plan", 1))]).level == NONE


def test_a_single_weak_cue_is_check():
    assert conversation_assess([screen(("means", 2))]).level == CHECK


def test_a_single_high_message_is_high_whatever_the_table():
    high = MessageScreen(7, True, (Cue("ideation", "kill myself", 2, "", 7),))
    assessment = conversation_assess([high])
    assert (assessment.level, assessment.rule) == (HIGH, SINGLE_MESSAGE_RULE)
    assert assessment.cues == [("ideation", 7, "kill myself")]


def test_someone_elses_cues_do_not_count_as_the_clients():
    assessment = conversation_assess([screen(("means", 3), ("hopelessness", 3), person="third")])
    assert (assessment.level, assessment.third_party) == (NONE, True)


def test_someone_elses_risk_with_the_clients_own_cue_is_check():
    assessment = conversation_assess(
        [screen(("ideation", 2), person="third"), screen(("plan", 1), message=2)]
    )
    assert (assessment.level, assessment.rule) == (CHECK, THIRD_PARTY_RULE)


# --- the same context rules as the single-message detector (the vetoes) ---------------------


def own_cues(text: str) -> list[str]:
    return [c[0] for c in crisis_detect(text).cues if not c[3]]


def test_spread_pattern_rises_to_high_on_the_completing_message():
    outcomes = conversation_outcomes(
        [
            "work has been rough",
            "honestly nobody would miss me",
            "I stopped at the pharmacy and bought a lot of pills",
        ]
    )
    assert outcomes == [NONE, CHECK, HIGH]
    assert crisis_detect("I stopped at the pharmacy and bought a lot of pills").risk != HIGH


def test_chinese_spread_pattern_rises_to_high_with_the_rules_alone():
    texts = ["感觉自己就是个多余的人", "今天路过药店，买了很多药"]
    assert conversation_outcomes(texts, detect=rules_detect) == [CHECK, HIGH]


def test_chinese_spread_pattern_rises_to_high_with_the_learned_score():
    # Burden without being gone is a check, whatever the score (ethics.detector.combine).
    texts = ["感觉自己就是个多余的人", "今天路过药店，买了很多药"]
    assert conversation_outcomes(texts) == [CHECK, HIGH]


def test_chinese_spread_pattern_ends_high_with_the_learned_score():
    texts = ["感觉自己就是个多余的人", "今天路过药店，买了很多药"]
    assert conversation_outcomes(texts)[-1] == HIGH


def test_negation_vetoes_a_cue():
    assert own_cues("I never bought a lot of pills") == []


def test_third_person_makes_a_cue_someone_elses():
    cues = crisis_detect("my friend bought a lot of pills").cues
    assert [(c[0], c[3]) for c in cues] == [("means", "third")]


def test_hyperbole_veto_holds():
    assert own_cues("these exams are killing me") == []


def test_accident_context_vetoes_a_means_cue():
    assert own_cues("I cut myself again shaving this morning") == []


def test_accident_context_leaves_no_learned_cue():
    """The rules' context judgement holds for the learned score too (ethics.detector.combine)."""
    detection = crisis_detect("I cut myself again shaving this morning")
    assert detection.score is not None and detection.cues == []


def test_a_question_is_not_a_rule_cue():
    assert [c[0] for c in rules_detect("我妈问我有没有买了很多药").cues] == []


@pytest.mark.xfail(
    strict=True,
    reason="known false alarm (ethics/corpus/README.md, known gaps): the question rule leaves "
    "no trace for the learned score, which reads the words and adds a check-level cue",
)
def test_a_question_is_not_a_learned_cue_either():
    assert own_cues("我妈问我有没有买了很多药") == []


def test_text_without_any_cue_has_none():
    detection = crisis_detect("see you next week, thanks")
    assert detection.cues == []


def test_one_learned_cue_among_several_texts_is_supporting_only():
    """Each text has its own chance at a learned cue, so over a window of several texts one
    learned cue is supporting (it counts beside another category), two are a check."""
    learned = screen((LEARNED, 3), message=1)
    assert conversation_assess([learned], texts=1).level == CHECK
    assert conversation_assess([learned], texts=5).level == NONE
    assert conversation_assess([learned, screen((LEARNED, 2), message=2)], texts=5).level == CHECK
    assert conversation_assess([learned, screen(("means", 2), message=2)], texts=5).level == (CHECK)
    assert (
        conversation_assess(
            [learned, screen((LEARNED, 2), message=2), screen(("means", 2), message=3)], texts=5
        ).level
        == HIGH
    )


def test_the_eval_counts_quiet_texts_in_the_window():
    quiet = ["hi", "long day at work", "anyway"]
    assert conversation_outcomes(quiet)[-1] == NONE


def test_timing_alone_is_quiet_and_timing_with_one_weak_cue_is_not_high():
    assert conversation_assess([screen(("plan", 1))]).level == NONE
    assert (
        conversation_assess([screen(("plan", 1), message=1), screen(("means", 2), message=2)]).level
        == CHECK
    )


def test_reported_speech_is_the_speakers_not_the_writers():
    assert own_cues("她跟我说有时候不想活了") == []
    assert own_cues("我跟她说我不想活了") != []
