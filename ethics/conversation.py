"""Conversation-level crisis triage: the client's recent messages, combined.

Real people in distress write indirectly, and the risk is often spread over several messages
("nobody would miss me" ... "I stopped at the pharmacy and bought a lot of pills"): each one
alone is quiet. Each message is screened once, when it is stored (`ethics.detector.crisis_detect`
also returns its conversation cues from `lexicon/cues.tsv` and `cue_pairs.tsv`, judged by the
same veto, negation, accident and person rules, and a `learned` cue when the learned score of
`ethics.classifier` is at or above its check threshold); the cues are kept, and
`conversation_assess` combines the cues of a window with the rule table `lexicon/rules.tsv`.
Nothing here decrypts or re-screens old messages.

    >>> conversation_assess(["honestly nobody would miss me",
    ...                      "I stopped at the pharmacy and bought a lot of pills"]).level
    'high'

Pure: no database, no Django.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ethics.detector import (
    CUE_CATEGORIES,
    HIGH,
    LEARNED,
    NONE,
    Detection,
    LexiconError,
    _read_tsv,
    crisis_detect,
)

CHECK = "check"
LEVELS = (HIGH, CHECK, NONE)
# The window (issue 12): the client's last 12 messages or the last 30 minutes, whichever
# holds more. The services apply it; the eval applies the message count.
WINDOW_MESSAGES = 12
WINDOW_MINUTES = 30
SINGLE_MESSAGE_RULE = "single-message-high"
# What rules.tsv may combine: the lexicon's cue categories and the learned score's cue.
RULE_CATEGORIES = (*CUE_CATEGORIES, LEARNED)
THIRD_PARTY_RULE = "third-party+own-cue"


@dataclass(frozen=True)
class Cue:
    category: str  # one of RULE_CATEGORIES
    phrase: str
    weight: int  # 1 supporting, 2 cue, 3 strong
    person: str = ""  # "" the writer, "third" someone else
    message: int | None = None  # the message's id (or its index in the eval)


@dataclass(frozen=True)
class MessageScreen:
    """What is kept of one message's screen: enough to combine it later without its text."""

    message: int | None
    high: bool  # the single-message detector rated it high
    cues: tuple[Cue, ...] = ()


@dataclass
class Assessment:
    level: str  # high | check | none
    rule: str = ""
    cues: list[tuple[str, int | None, str]] = field(
        default_factory=list
    )  # category, message, phrase
    third_party: bool = False  # someone else's risk is named in the window

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "rule": self.rule,
            "cues": [list(c) for c in self.cues],
            "third_party": self.third_party,
        }


@dataclass(frozen=True)
class Rule:
    name: str
    categories: tuple[str, ...]
    min_weight: int
    outcome: str
    where: str


_rules: list[Rule] | None = None
_rules_lock = threading.Lock()


def _load_rules() -> list[Rule]:
    rules = []
    for row in _read_tsv("rules.tsv"):
        categories = tuple(c.strip() for c in row["when"].split("+"))
        unknown = [c for c in categories if c not in RULE_CATEGORIES]
        if unknown:
            raise LexiconError(f"{row['_where']}: unknown categories {unknown}")
        if row["outcome"] not in (HIGH, CHECK):
            raise LexiconError(f"{row['_where']}: outcome must be high or check")
        try:
            min_weight = int(row["min_weight"])
        except ValueError:
            raise LexiconError(f"{row['_where']}: min_weight must be an integer") from None
        rules.append(Rule(row["rule"], categories, min_weight, row["outcome"], row["_where"]))
    return rules


def rules() -> list[Rule]:
    """The rule table, loaded once per process."""
    global _rules
    if _rules is None:
        with _rules_lock:
            if _rules is None:
                _rules = _load_rules()
    return _rules


def message_screen(detection: Detection, message: int | None = None) -> MessageScreen:
    """One message's screen as it is kept (call with the detection `text_screen` made)."""
    return MessageScreen(
        message,
        detection.risk == HIGH,
        tuple(
            Cue(category, phrase, weight, person, message)
            for category, phrase, weight, person in dict.fromkeys(detection.cues)
        ),
    )


def _learned_weight(screens: Sequence[MessageScreen], texts: int) -> int:
    """The weight of the learned category in a window (lexicon README, "The learned score in
    a window"). One text alone: its learned cue's own weight (2 at the check threshold, 3 at
    the high one). Several texts: each text had its own chance at a learned cue, so one
    learned cue among them is supporting only (1), two texts with one are a cue (2), three or
    more, or two with one at the high threshold, are strong (3)."""
    weights = [
        max(c.weight for c in s.cues if c.category == LEARNED and not c.person)
        for s in screens
        if any(c.category == LEARNED and not c.person for c in s.cues)
    ]
    if not weights:
        return 0
    if texts <= 1:
        return max(weights)
    if len(weights) == 1:
        return 1
    if len(weights) >= 3 or max(weights) >= 3:
        return 3
    return 2


def conversation_assess(
    messages: Iterable[MessageScreen | str], texts: int | None = None
) -> Assessment:
    """Combine the screens of a window of one client's messages (oldest first). Plain strings
    are screened here (the eval and tests); the services pass the stored screens. `texts` is
    the number of the client's texts in the window (quiet ones included); None counts the
    screens given."""
    screens = [
        m if isinstance(m, MessageScreen) else message_screen(crisis_detect(m), i)
        for i, m in enumerate(messages)
    ]
    if texts is None:
        texts = len(screens)
    own = [c for s in screens for c in s.cues if not c.person]
    third_party = any(c.person for s in screens for c in s.cues)
    strongest: dict[str, int] = {}
    for cue in own:
        if cue.category != LEARNED:
            strongest[cue.category] = max(strongest.get(cue.category, 0), cue.weight)
    learned = _learned_weight(screens, texts)
    if learned:
        strongest[LEARNED] = learned
    fired = next(
        (
            rule
            for rule in rules()
            if all(c in strongest for c in rule.categories)
            and sum(strongest[c] for c in rule.categories) >= rule.min_weight
        ),
        None,
    )
    if fired is not None and fired.outcome == HIGH:
        return Assessment(
            HIGH,
            fired.name,
            [(c.category, c.message, c.phrase) for c in own if c.category in fired.categories],
            third_party,
        )
    # A message the detector rated high keeps the window high, whatever the table says.
    highs = [s for s in screens if s.high]
    if highs:
        return Assessment(
            HIGH,
            SINGLE_MESSAGE_RULE,
            [(c.category, c.message, c.phrase) for s in highs for c in s.cues if not c.person],
            third_party,
        )
    if fired is not None:
        return Assessment(
            fired.outcome,
            fired.name,
            [(c.category, c.message, c.phrase) for c in own if c.category in fired.categories],
            third_party,
        )
    if third_party and (any(c.category != LEARNED for c in own) or learned >= 2):
        # Someone else's risk is not the client's crisis, but with their own cues beside it
        # a person should ask (issue 12, point 4). One learned cue is not enough: the score
        # reads the words about the other person too.
        return Assessment(
            CHECK, THIRD_PARTY_RULE, [(c.category, c.message, c.phrase) for c in own], True
        )
    return Assessment(NONE, "", [], third_party)


def conversation_outcomes(
    texts: Sequence[str], detect: Callable[[str], Detection] = crisis_detect
) -> list[str]:
    """The assessment after each message of a conversation (the window is the last
    WINDOW_MESSAGES messages; each message is screened once). `detect` is the single-message
    screen (`ethics.detector.rules_detect` gives the rules alone, for comparison)."""
    screens = [message_screen(detect(t), i) for i, t in enumerate(texts)]
    outcomes = []
    for i in range(len(screens)):
        window = screens[max(0, i + 1 - WINDOW_MESSAGES) : i + 1]
        # As the services keep it: only the texts with a cue, and how many texts there were.
        kept = [s for s in window if s.cues or s.high]
        outcomes.append(conversation_assess(kept, texts=len(window)).level)
    return outcomes
