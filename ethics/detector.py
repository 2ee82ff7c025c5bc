"""Crisis screening of free text: does this message express suicidal ideation, a plan,
means, self-harm or a goodbye?

    >>> crisis_detect("我不想活了").risk
    'high'

One function, `crisis_detect(text) -> Detection`, is meant to be called wherever text
enters Pianke (intake answers, match-request notes, chat and async messages in both
directions, complaints). It is pure (no database, no network, no Django imports) and
fast: one Aho-Corasick pass over the text, and Chinese word segmentation (jieba) only
for the sentences that contain a candidate match.

How it decides (the lexicon README explains the same rules for clinicians):

1. Normalise the text so that spelling variants meet the lexicon: NFKC (full-width
   letters and punctuation), lower case, traditional -> simplified characters (a small
   table in lexicon/traditional.tsv), apostrophes dropped ("I'm" == "Im" == "im"),
   hyphens as spaces ("self-harm" == "self harm"), leetspeak inside Latin words
   ("su1c1de" == "suicide").
2. Find every lexicon phrase with one automaton (patterns, proximity-rule parts,
   vetoes, context cues). English phrases must sit on word boundaries; Chinese ones are
   plain substrings, because Chinese has no spaces and recall matters more than a
   neat token match.
3. Proximity rules pair two phrases in the same sentence ("攒" ... "药", "saving up" ...
   "pills") so that plans and means are caught without listing every sentence.
4. Each candidate is then checked, most specific first:
   - a veto (hyperbole or fixed expression such as 想死你了, 跳楼价, "suicide prevention")
     that contains the match caps its level (usually to none);
   - a negation just before it in the same clause ("I'm not suicidal", 我没有想过自杀)
     drops it, unless the negation is only apparent ("can't stop", 忍不住, 不知道, "no
     one") or an intensifier turns it around ("never felt *so* suicidal");
   - an accident / everyday-activity cue drops self-harm and means matches ("cut myself
     shaving", 切菜时不小心割到);
   - for topic words (自杀, "suicide", 割腕 ...) and anything in quotation marks, who is
     talking about whom: a research/news/fiction/prevention-work context drops the match,
     a third person (他, "my friend", 想自杀的朋友) or second person ("you", a counsellor's
     question) caps it at low. Phrases that name the writer ("kill myself", "better off
     without me") skip this step; so do phrases whose own words name the people involved;
   - a Chinese yes/no question form just before it (有没有, 会不会) caps it at low.
5. The risk is the highest surviving level. Two or more different low signs that are not
   all hopelessness (a rope bought + "I can't take it anymore") make a high.
   `reasons` lists the surviving matches and `ignored` the ones a rule dropped (for
   review and for tests).

Recall over precision: where a rule is unsure, it lets the match stand.
"""

from __future__ import annotations

import bisect
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick

from ethics.classifier import Thresholds, risk_score, thresholds
from ethics.classifier import warm_up as _classifier_warm_up

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"

HIGH, LOW, NONE = "high", "low", "none"
_RANK = {NONE: 0, LOW: 1, HIGH: 2}
LANGUAGES = {"zh", "en"}
SCOPES = {"self", "topic"}
# Categories are free text in the lexicon, but a typo there would silently create a new
# one; keep the list closed so the loader catches it.
CATEGORIES = {
    "suicidal-ideation",
    "suicide-plan",
    "suicide-means",
    "self-harm",
    "farewell",
    "burdensomeness",
    "hopelessness",
    "third-party",
}
# The accident rule (module doc, step 4) applies only to these: "I burned my arm on the oven" is an
# accident, "I want to die while cooking" is not.
_PHYSICAL_CATEGORIES = {"self-harm", "suicide-means", "suicide-plan"}
# Conversation cue categories (ethics/lexicon/cues.tsv) and the detector category whose
# context rules each one follows.
CUE_CATEGORIES = {
    "hopelessness": "hopelessness",
    "finality": "farewell",
    "means": "suicide-means",
    "plan": "suicide-plan",
    "self-harm": "self-harm",
    "ideation": "suicidal-ideation",
}
# The learned score's conversation cue (crisis_detect): not a lexicon category, so cues.tsv
# cannot use it; rules.tsv can.
LEARNED = "learned"
# The detector's own patterns, as conversation cues ("hopelessness and burden" are one).
_CUE_OF_CATEGORY = {
    "suicidal-ideation": "ideation",
    "suicide-plan": "plan",
    "suicide-means": "means",
    "self-harm": "self-harm",
    "farewell": "finality",
    "burdensomeness": "hopelessness",
    "hopelessness": "hopelessness",
    "third-party": "ideation",
}
CUE_PHRASE_KINDS = {"academic", "benign", "clause-break", "coordination"}
CUE_TOKEN_KINDS = {
    "negation",
    "pseudo-negation",
    "intensifier",
    "first-person",
    "second-person",
    "third-person",
    "preposition",
    "determiner",
    "classifier",
    "topic-marker",
    "question",
    "modifier",
    "reporting",
}
# How far back (in words / jieba tokens, same clause) a negation still applies.
# Chinese tokens are longer than English words, hence the smaller window.
_NEGATION_WINDOW = {"en": 5, "zh": 4}
# Two or more different low warning signs together ("I can't go on" + "I'm going to end
# it", a rope bought + "I can't take it anymore", a note left + "it explains everything")
# make a high: WHO/IASP warning-sign guidance treats a combination of signs as more serious
# than any one. Hopelessness alone, however often repeated, stays low (the spec's 很绝望 /
# 撑不下去了), and someone else's risk (third-party) never escalates the writer's.
_NON_ESCALATING = {"hopelessness", "third-party"}
# Stop analysing once this many high matches are found: the answer cannot change, and a
# pasted novel full of crisis words should not cost seconds of segmentation.
_MAX_HIGH_REASONS = 20
_MAX_REASONS = 50

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ASCII_WORD_CHAR = re.compile(r"[a-z0-9]")
_SENTENCE = re.compile(r"[^。.!?！？\n]+[。.!?！？\n]*")
_EN_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
_CLAUSE_PUNCT = set(",;:.!?。、…()[]【】|/\\，；：！？")
# Paired marks: a match inside them is quoted or a title (《自杀论》), not the writer's
# own voice. Straight quotes pair up left to right.
_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|\"[^\"]*\"|《[^》]*》|〈[^〉]*〉")
_LEET_WORD = re.compile(r"[a-z0-9@$]+")
_LEET = str.maketrans("013457@$", "oieastas")
_SPELLED_OUT = re.compile(r"(?<![a-z])(?:[a-z] ){2,}[a-z](?![a-z])")


class LexiconError(ValueError):
    """A lexicon file is malformed; the message names the file and line."""


@dataclass
class Detection:
    risk: str  # "high" | "low" | "none"
    reasons: list[str] = field(default_factory=list)  # e.g. "suicidal-ideation: 想死"
    ignored: list[str] = field(default_factory=list)  # matches a rule dropped, with the rule
    # Conversation cues (lexicon/cues.tsv, cue_pairs.tsv) that survived the same rules, for
    # ethics.conversation: (category, phrase, weight, person) with person "" for the writer
    # and "third" for someone else. They never change `risk`: a cue alone is quiet by design.
    cues: list[tuple[str, str, int, str]] = field(default_factory=list)
    # The learned score (ethics.classifier), None from `rules_detect` or for an empty text.
    score: float | None = None

    def as_dict(self, explain: bool = False) -> dict:
        out = {"risk": self.risk, "reasons": list(self.reasons)}
        if explain:
            out["ignored"] = list(self.ignored)
            out["score"] = None if self.score is None else round(self.score, 4)
        return out


# --- normalisation ---------------------------------------------------------------------


def _load_traditional() -> dict[int, str]:
    table: dict[int, str] = {}
    for row in _read_tsv("traditional.tsv"):
        trad, simp = row["traditional"], row["simplified"]
        if len(trad) != len(simp):
            raise LexiconError(f"{row['_where']}: columns differ in length")
        for t, s in zip(trad, simp):
            table[ord(t)] = s
    return table


_translate_table: dict[int, str | None] | None = None


def _unleet(m: re.Match) -> str:
    word = m.group()
    # Only words mixing letters with digits/@/$ ("su1c1de", "k!ll" is out of scope):
    # plain numbers ("3.5 hours") must stay numbers.
    if re.search(r"[a-z]", word) and re.search(r"[0-9@$]", word):
        return word.translate(_LEET)
    return word


def normalize(text: str) -> str:
    """The form both the lexicon and incoming text are compared in (see module doc)."""
    global _translate_table
    if _translate_table is None:
        table: dict[int, str | None] = dict(_load_traditional())
        for ch in "'’‘`´ʼ":  # "I'm" / "I’m" / "Im" all become "im"
            table[ord(ch)] = None
        _translate_table = table
    text = unicodedata.normalize("NFKC", text).lower().translate(_translate_table)
    text = _LEET_WORD.sub(_unleet, text)
    text = re.sub(r"[-_~*+=.]*(?<=[a-z])[-_~*+=.]+(?=[a-z])", " ", text)  # self-harm, k.m.s
    text = re.sub(r"[-_~*+=]+", " ", text)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    # "s u i c i d a l" (letters spelled out to dodge filters) -> "suicidal"
    text = _SPELLED_OUT.sub(lambda m: m.group().replace(" ", ""), text)
    # "我 想 死" and "我想死" are the same sentence; spacing between Chinese characters is noise.
    text = re.sub(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])", "", text)
    return text.strip()


def expand(pattern: str) -> list[str]:
    """Expand the lexicon's `{a|b|}` alternations, which may nest: "kill{|ing} myself" ->
    ["kill myself", "killing myself"]. Raises LexiconError on unbalanced braces."""

    def alternatives(i: int, depth: int) -> tuple[list[str], int]:
        options: list[str] = []
        current = [""]
        while i < len(pattern):
            c = pattern[i]
            if c == "{":
                inner, i = alternatives(i + 1, depth + 1)
                current = [p + q for p in current for q in inner]
            elif c == "|":
                options.extend(current)
                current = [""]
                i += 1
            elif c == "}":
                if depth == 0:
                    raise LexiconError(f"unbalanced '}}' in {pattern!r}")
                return options + current, i + 1
            else:
                current = [p + c for p in current]
                i += 1
        if depth:
            raise LexiconError(f"unclosed '{{' in {pattern!r}")
        return options + current, i

    return list(dict.fromkeys(alternatives(0, 0)[0]))


# --- lexicon -----------------------------------------------------------------------------


def _read_tsv(name: str) -> list[dict]:
    """Rows of a lexicon TSV as dicts. '#' lines are comments, the first other line is
    the header, every row must have a value in every column (the source included)."""
    rows, header = [], None
    with open(LEXICON_DIR / name, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = [c.strip() for c in line.split("\t")]
            if header is None:
                header = cells
                continue
            where = f"{name}:{lineno}"
            if len(cells) != len(header) or not all(cells):
                raise LexiconError(
                    f"{where}: expected {len(header)} non-empty tab-separated "
                    f"columns {header}, got {cells}"
                )
            row = dict(zip(header, cells))
            row["_where"] = where
            rows.append(row)
    return rows


def _check(row: dict, column: str, allowed: set) -> str:
    value = row[column]
    if value not in allowed:
        raise LexiconError(f"{row['_where']}: {column} {value!r} not in {sorted(allowed)}")
    return value


@dataclass(frozen=True)
class _Pattern:
    category: str
    level: str
    scope: str
    lang: str
    where: str
    # Set for a conversation cue: (its category in ethics.conversation, weight 1-3).
    cue: tuple[str, int] | None = None


@dataclass(frozen=True)
class _Part:
    rule: int
    side: int  # 0 = first phrase, 1 = second phrase


@dataclass(frozen=True)
class _Veto:
    cap: str
    kind: str


@dataclass(frozen=True)
class _Cue:
    kind: str


@dataclass(frozen=True)
class _Rule:
    max_gap: int
    pattern: _Pattern


class _Lexicon:
    """Everything loaded from ethics/lexicon/, with one automaton over all phrases."""

    def __init__(self) -> None:
        keys: dict[str, list] = {}

        def add(raw: str, entry, where: str) -> None:
            try:
                variants = expand(raw)
            except LexiconError as exc:
                raise LexiconError(f"{where}: {exc}") from None
            for variant in variants:
                key = normalize(variant)
                if not key:
                    raise LexiconError(f"{where}: {raw!r} expands to an empty phrase")
                keys.setdefault(key, []).append(entry)

        def pattern_of(row: dict) -> _Pattern:
            return _Pattern(
                _check(row, "category", CATEGORIES),
                _check(row, "level", {HIGH, LOW}),
                _check(row, "scope", SCOPES),
                _check(row, "lang", LANGUAGES),
                row["_where"],
            )

        for row in _read_tsv("patterns.tsv"):
            add(row["pattern"], pattern_of(row), row["_where"])

        self.rules: list[_Rule] = []
        for row in _read_tsv("proximity.tsv"):
            try:
                gap = int(row["max_gap"])
            except ValueError:
                raise LexiconError(f"{row['_where']}: max_gap must be an integer") from None
            index = len(self.rules)
            self.rules.append(_Rule(gap, pattern_of(row)))
            add(row["first"], _Part(index, 0), row["_where"])
            add(row["second"], _Part(index, 1), row["_where"])

        # Conversation cues share the automaton and the rules (veto, negation, accident,
        # person, question) with the patterns; their detector category only selects which
        # rules apply (the accident rule is for the physical ones).
        def cue_of(row: dict) -> _Pattern:
            category = _check(row, "category", set(CUE_CATEGORIES))
            try:
                weight = int(row["weight"])
            except ValueError:
                weight = 0
            if weight not in (1, 2, 3):
                raise LexiconError(f"{row['_where']}: weight must be 1, 2 or 3")
            # Judged as if high, so that a cap (person, hyperbole, question) shows in the note.
            return _Pattern(
                CUE_CATEGORIES[category],
                HIGH,
                _check(row, "scope", SCOPES),
                _check(row, "lang", LANGUAGES),
                row["_where"],
                (category, weight),
            )

        for row in _read_tsv("cues.tsv"):
            add(row["pattern"], cue_of(row), row["_where"])
        for row in _read_tsv("cue_pairs.tsv"):
            try:
                gap = int(row["max_gap"])
            except ValueError:
                raise LexiconError(f"{row['_where']}: max_gap must be an integer") from None
            index = len(self.rules)
            self.rules.append(_Rule(gap, cue_of(row)))
            add(row["first"], _Part(index, 0), row["_where"])
            add(row["second"], _Part(index, 1), row["_where"])

        for row in _read_tsv("vetoes.tsv"):
            _check(row, "lang", LANGUAGES)
            add(row["pattern"], _Veto(_check(row, "cap", {NONE, LOW}), row["kind"]), row["_where"])

        self.token_cues: dict[str, set[str]] = {kind: set() for kind in CUE_TOKEN_KINDS}
        for row in _read_tsv("context.tsv"):
            _check(row, "lang", LANGUAGES)
            kind = _check(row, "kind", CUE_PHRASE_KINDS | CUE_TOKEN_KINDS)
            if kind in CUE_PHRASE_KINDS:
                add(row["cue"], _Cue(kind), row["_where"])
            else:
                # Token cues are compared with single words / jieba tokens.
                for variant in expand(row["cue"]):
                    self.token_cues[kind].add(normalize(variant))
        # Chinese token cues of two or more characters, to keep whole in segmentation.
        self.token_words_zh = {
            cue
            for cues in self.token_cues.values()
            for cue in cues
            if len(cue) > 1 and _CJK.search(cue)
        }

        self.automaton = ahocorasick.Automaton()
        for key, entries in keys.items():
            self.automaton.add_word(key, (key, tuple(entries)))
        self.automaton.make_automaton()
        self.phrase_count = len(keys)


_lexicon_instance: _Lexicon | None = None
_lexicon_lock = threading.Lock()


def lexicon() -> _Lexicon:
    """The lexicon, loaded once per process (lazily, so importing this module is free)."""
    global _lexicon_instance
    if _lexicon_instance is None:
        with _lexicon_lock:
            if _lexicon_instance is None:
                _lexicon_instance = _Lexicon()
    return _lexicon_instance


# --- segmentation --------------------------------------------------------------------------

_jieba = None
_jieba_lock = threading.Lock()


def _segmenter():
    """A private jieba tokenizer, initialised once. Loading the dictionary takes ~1 s (jieba
    caches a pickled prefix dictionary in the temp directory on first use), so it happens
    only when a Chinese sentence actually contains a candidate match, or in `warm_up()`.

    Private (not jieba's global default) because the Chinese token cues of context.tsv
    (并不, 从来没有, 闺蜜, 来访者 ...) are tuned into its dictionary so that each stays one
    word, and that must not change segmentation for other code in the process."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(60)  # silence "Building prefix dict..." on stderr
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word in sorted(lexicon().token_words_zh):
                    tokenizer.suggest_freq(word, tune=True)
                _jieba = tokenizer
    return _jieba


def warm_up() -> None:
    """Load the lexicon, jieba and the learned model now (e.g. at worker start) instead of on
    the first message."""
    lexicon()
    _segmenter()
    _classifier_warm_up()


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


def _tokenize(text: str, offset: int) -> list[_Token]:
    if _CJK.search(text):
        # HMM=False: dictionary words only. The HMM guesses new words, which glues
        # function words onto verbs ("地想") and hides negations.
        pieces = _segmenter().tokenize(text, HMM=False)
        tokens = [_Token(w, offset + s, offset + e) for w, s, e in pieces]
    else:
        tokens = [
            _Token(m.group(), offset + m.start(), offset + m.end())
            for m in _EN_TOKEN.finditer(text)
        ]
    return [t for t in tokens if t.text.strip()]


# --- matching ------------------------------------------------------------------------------


@dataclass
class _Hit:
    start: int
    end: int
    text: str


@dataclass
class _Candidate:
    start: int
    end: int
    text: str
    pattern: _Pattern


def _on_word_boundaries(text: str, start: int, end: int, key: str) -> bool:
    """English phrases must not match inside a longer word ("die" in "diet"); a key that
    starts or ends with a Chinese character needs no boundary on that side."""
    if _ASCII_WORD_CHAR.match(key[0]) and start > 0 and _ASCII_WORD_CHAR.match(text[start - 1]):
        return False
    return not (
        _ASCII_WORD_CHAR.match(key[-1]) and end < len(text) and _ASCII_WORD_CHAR.match(text[end])
    )


class _Sentence:
    """Tokens and clause boundaries of one sentence, computed only when needed."""

    def __init__(
        self,
        text: str,
        start: int,
        end: int,
        lex: _Lexicon,
        breaks: list[_Hit],
        coordinations: list[_Hit],
    ):
        self.start, self.end = start, end
        self.tokens = _tokenize(text[start:end], start)
        self.token_starts = {t.start for t in self.tokens}
        self.token_ends = {t.end for t in self.tokens}
        self.lex = lex
        # Clause index per token: a new clause after punctuation, a clause-break phrase
        # ("but", "但是", "not gonna lie") or a coordination ("and"). Negation and "who is the
        # subject" never reach across a clause boundary. `phrase` is the same without the
        # coordinations: research context reaches across "and" ("we covered self-harm and
        # suicide in our module") but not across punctuation or "but".
        strong = [(b.start, b.end) for b in breaks if self.aligned(b)]
        weak = [(b.start, b.end) for b in coordinations if self.aligned(b)]
        self.clause: list[int] = []
        self.phrase: list[int] = []
        clause = phrase = 0
        for tok in self.tokens:
            punctuation = all(ch in _CLAUSE_PUNCT for ch in tok.text)
            if punctuation or any(s <= tok.start < e for s, e in strong):
                clause += 1
                phrase += 1
                self.clause.append(-1)  # the break itself belongs to no clause
                self.phrase.append(-1)
            elif any(s <= tok.start < e for s, e in weak):
                clause += 1
                self.clause.append(-1)
                self.phrase.append(phrase)
            else:
                self.clause.append(clause)
                self.phrase.append(phrase)

    def aligned(self, hit: _Hit) -> bool:
        """Chinese cues must coincide with whole jieba tokens ("研究" is not a cue inside
        "研究生", a graduate student); English ones already sit on word boundaries."""
        if not _CJK.search(hit.text):
            return True
        return hit.start in self.token_starts and hit.end in self.token_ends

    def clause_at(self, pos: int, phrase: bool = False) -> int:
        """Clause (or phrase) of the token covering, or else preceding, character pos."""
        index = self.phrase if phrase else self.clause
        best = 0
        for i, tok in enumerate(self.tokens):
            if tok.start > pos:
                break
            if index[i] >= 0:
                best = index[i]
        return best

    def clause_tokens(self, clause: int, phrase: bool = False) -> list[tuple[int, _Token]]:
        index = self.phrase if phrase else self.clause
        return [(i, t) for i, t in enumerate(self.tokens) if index[i] == clause]


def _negation(sent: _Sentence, cand: _Candidate) -> str | None:
    """The negating word, if the match is negated ("I'm not suicidal", 我没有想自杀)."""
    cues = sent.lex.token_cues
    if "…" in cand.text and cand.start not in sent.token_starts:
        # A proximity match whose first phrase ends a longer word (药 in 吃药): a negation
        # before that word negates the word (没吃药), not the plan (都攒起来了).
        return None
    clause = sent.clause_at(cand.start)
    in_clause = sent.clause_tokens(clause)
    # Tokens starting before the match: includes a token straddling its start (不想 in
    # 不想死 when the pattern is 想死).
    before = [(i, t) for i, t in in_clause if t.start < cand.start]
    lang = "zh" if _CJK.search(cand.text) else "en"
    window = before[-_NEGATION_WINDOW[lang] :]
    after = [t for i, t in in_clause if t.start >= cand.end][:2]
    for pos, (i, tok) in enumerate(window):
        if tok.text not in cues["negation"] or _a_not_a(sent, i):
            continue
        nxt = sent.tokens[i + 1] if i + 1 < len(sent.tokens) else None
        if nxt is not None and nxt.text in cues["pseudo-negation"]:
            continue  # "can't stop", "no one", "not even sure", 没人
        between = [t for _, t in window[pos + 1 :]]
        if any(t.text in cues["intensifier"] for t in between + after):
            continue  # "never felt so suicidal", 从没这么想死过
        return tok.text
    return None


def _a_not_a(sent: _Sentence, i: int) -> bool:
    """Is token i the negative half of a Chinese A-not-A question (会不会, 想不想, 有没有)?
    That is a question, not a negation."""
    if i == 0:
        return False
    neg, prev = sent.tokens[i].text, sent.tokens[i - 1].text
    return len(neg) >= 2 and neg[0] in "不没" and prev.endswith(neg[1:])  # 我会|不会


def _person(sent: _Sentence, anchor: int, end: int) -> tuple[str | None, str | None]:
    """Who the clause before `anchor` is about: the nearest person word, looking back.
    A third/second-person word governed by a preposition ("fought with my mum",
    跟妈妈吵架后) is not the subject, so the search goes on past it; one in apposition
    to the writer (我一个大学生, "I, a student") counts as the writer."""
    cues = sent.lex.token_cues
    clause = sent.clause_at(anchor)
    in_clause = sent.clause_tokens(clause)
    # Chinese relative clause: 有自杀意念的来访者 / 想自杀的朋友 - the match describes the
    # person named right after 的.
    after = [t.text for _, t in in_clause if t.start >= end][:4]
    for k, word in enumerate(after[:3]):
        if word in cues["modifier"]:
            if k + 1 < len(after) and after[k + 1] in cues["third-person"]:
                return "third", after[k + 1]
            break
    before = [(i, t) for i, t in in_clause if t.end <= anchor]
    for i, tok in reversed(before):
        if tok.text in cues["first-person"]:
            if (
                0 < i < len(sent.tokens) - 1
                and sent.clause[i - 1] == clause
                and sent.tokens[i - 1].text in cues["preposition"]
                and sent.tokens[i + 1].text in cues["reporting"]
            ):
                # Reported speech with the writer as the listener (她跟我说…, 他对我讲…):
                # whoever spoke is the subject, so the search goes on.
                continue
            return "first", tok.text
        kind = (
            "second"
            if tok.text in cues["second-person"]
            else "third"
            if tok.text in cues["third-person"]
            else None
        )
        if kind is None:
            continue
        k = i - 1
        skipped_classifier = False
        while (
            k >= 0
            and sent.clause[k] == clause
            and (
                sent.tokens[k].text in cues["determiner"]
                or sent.tokens[k].text in cues["classifier"]
            )
        ):
            skipped_classifier |= sent.tokens[k].text in cues["classifier"]
            if skipped_classifier and sent.tokens[k].text in cues["first-person"]:
                break
            k -= 1
        if k >= 0 and sent.clause[k] == clause:
            before_word = sent.tokens[k].text
            if before_word in cues["preposition"]:
                continue
            if skipped_classifier and before_word in cues["first-person"]:
                return "first", before_word
        return kind, tok.text
    return None, None


def _academic(
    sent: _Sentence, cand: _Candidate, anchor: int, cues: list[_Hit], whole_sentence: bool
) -> str | None:
    """A research / news / fiction / prevention-work cue that the match is the topic of.

    The cue must be in the match's clause (anywhere in the sentence for quoted text),
    with no first-person word between it and the match: "my thesis on suicide" ->
    dropped; "my therapist asked if I was suicidal" -> kept, "I" is closer. A cue after
    the match counts only if nothing before the match names the writer ("suicide is the
    theme of the novel" -> dropped; "I want to die after reading this book" -> kept).
    Cues in other clauses are ignored on purpose: "I got bad news, suicide is the only
    way out" must stay high.
    """
    first = sent.lex.token_cues["first-person"]
    clause = sent.clause_at(anchor, phrase=True)
    in_clause = sent.clause_tokens(clause, phrase=True)
    firsts = [t.start for _, t in in_clause if t.text in first]
    markers = [
        t.end
        for _, t in in_clause
        if t.text in sent.lex.token_cues["topic-marker"] and t.end <= anchor
    ]
    # 关于/regarding X ... <cue>: X is the topic when no first-person word separates it
    # from the marker (我在写一篇关于青少年自伤的论文).
    topical = any(not any(m <= p < anchor for p in firsts) for m in markers)
    for cue in cues:
        if cue.start < cand.end and cand.start < cue.end:
            continue  # overlapping the match itself
        if sent.clause_at(cue.start, phrase=True) != clause and not whole_sentence:
            continue
        if cue.end <= anchor:
            if not any(cue.end <= p < anchor for p in firsts):
                return cue.text
        elif topical or not any(p < anchor for p in firsts):
            return cue.text
    return None


def _scan(text: str, lex: _Lexicon):
    """(hit, entry) for every lexicon phrase found in the normalised text."""
    for end_index, (key, entries) in lex.automaton.iter(text):
        start = end_index - len(key) + 1
        end = end_index + 1
        if not _on_word_boundaries(text, start, end, key):
            continue
        hit = _Hit(start, end, key)
        for entry in entries:
            yield hit, entry


def crisis_detect(text: str) -> Detection:
    """Screen one text (any length, Chinese, English or mixed) for suicide risk: the rules
    (`rules_detect`) combined with the learned score (`ethics.classifier.risk_score`) by
    `combine`. Precondition: none (an empty text is none, unscored)."""
    detection = rules_detect(text)
    if not text or not text.strip():
        return detection
    return combine(detection, risk_score(text, rules=detection), thresholds())


# The notes of `_judge` for a match dropped by its context, not by the wording itself.
_CONTEXT_DROP = re.compile(
    r"\((?:accident/everyday context|research/media/work context|title of a work)"
)


def combine(rules: Detection, score: float, limits: Thresholds) -> Detection:
    """The rules' verdict on a text and the learned score of the same text, combined (the
    lexicon README, "The learned score"). Returns a new Detection; `rules` is not changed.

    * The rules' high stays high: direct wording is the lexicon's job, and the score never
      vetoes it.
    * A score at or above `limits.high` together with at least one of the writer's own rule
      cues of weight 2 or more in the text, not of hopelessness (a pattern or a cue; a
      supporting cue such as "tomorrow" is not enough, and hopelessness or burden alone is a
      check), is high.
    * A score at or above `limits.check` adds a `learned` conversation cue (weight 2, or 3 at
      the high threshold), so that the conversation rules see it: alone it asks for a risk
      check, beside a cue of another category in the window it is high. It is someone else's
      (no alert about the writer) when the text has rule cues and all are someone else's.
    * The rules' context judgement holds for the score too: when they dropped a match as an
      accident or everyday context ("I cut myself shaving"), research, media or work, or the
      title of a work, and left none of the writer's own cues of weight 2 or more, there is no
      learned cue."""
    out = Detection(rules.risk, list(rules.reasons), list(rules.ignored), list(rules.cues), score)
    own = [c for c in rules.cues if not c[3]]
    # Supporting cues ("tomorrow", "goodbye", weight 1) are everyday words: beside them the
    # score alone decides nothing.
    own_cues = [c for c in own if c[2] >= 2]
    if not own_cues and any(_CONTEXT_DROP.search(note) for note in rules.ignored):
        return out
    # Hopelessness or burden alone is a check, however confident the score (the corpus's label
    # guidelines: burden without being gone).
    escalating = [c for c in own_cues if c[0] != "hopelessness"]
    if score >= limits.high and escalating and out.risk != HIGH:
        out.risk = HIGH
        out.reasons.append(
            f"learned: score {score:.2f} with "
            + ", ".join(dict.fromkeys(f"{c[0]}: {c[1]}" for c in escalating))
        )
    if score >= limits.check:
        # "My friend wants to die": the third-party rule, not an alert about the writer.
        person = "third" if rules.cues and not own else ""
        weight = 3 if score >= limits.high else 2
        out.cues.append((LEARNED, f"learned score {score:.2f}", weight, person))
    return out


def rules_detect(text: str) -> Detection:
    """The rules alone: the lexicon and its rules, no learned score (the screen before issue
    12 point 2, and the learned model's input)."""
    if not text or not text.strip():
        return Detection(NONE)
    lex = lexicon()
    norm = normalize(text)

    patterns: list[_Candidate] = []
    parts: dict[int, tuple[list[_Hit], list[_Hit]]] = {}
    vetoes: list[tuple[_Hit, _Veto]] = []
    cues: dict[str, list[_Hit]] = {kind: [] for kind in CUE_PHRASE_KINDS}
    for hit, entry in _scan(norm, lex):
        if isinstance(entry, _Pattern):
            patterns.append(_Candidate(hit.start, hit.end, hit.text, entry))
        elif isinstance(entry, _Part):
            parts.setdefault(entry.rule, ([], []))[entry.side].append(hit)
        elif isinstance(entry, _Veto):
            vetoes.append((hit, entry))
        else:
            cues[entry.kind].append(hit)
    if not patterns and not any(first and second for first, second in parts.values()):
        return Detection(NONE)  # the fast path: no phrase of any kind (cues included)

    sentences = [(m.start(), m.end()) for m in _SENTENCE.finditer(norm)]
    sentence_starts = [s for s, _ in sentences]

    def sentence_of(pos: int) -> int:
        return max(bisect.bisect_right(sentence_starts, pos) - 1, 0)

    # Proximity rules: the first phrase, then the nearest second phrase after it in the
    # same sentence, at most max_gap characters later. Hits come out of the automaton in
    # order of their end, so sort the second phrases by start once and bisect.
    for rule_index, (firsts, seconds) in parts.items():
        if not firsts or not seconds:
            continue
        rule = lex.rules[rule_index]
        seconds = sorted(seconds, key=lambda h: h.start)
        second_starts = [h.start for h in seconds]
        for f in firsts:
            k = bisect.bisect_left(second_starts, f.end)
            if k < len(seconds):
                s = seconds[k]
                if s.start - f.end <= rule.max_gap and sentence_of(s.start) == sentence_of(f.start):
                    patterns.append(_Candidate(f.start, s.end, f"{f.text}…{s.text}", rule.pattern))

    by_sentence: dict[int, list[_Candidate]] = {}
    cue_by_sentence: dict[int, list[_Candidate]] = {}
    for cand in patterns:
        target = by_sentence if cand.pattern.cue is None else cue_by_sentence
        target.setdefault(sentence_of(cand.start), []).append(cand)
    if not by_sentence and not cue_by_sentence:
        return Detection(NONE)
    cues_by_sentence: dict[int, dict[str, list[_Hit]]] = {}
    for kind, kind_hits in cues.items():
        for hit in kind_hits:
            index = sentence_of(hit.start)
            if index in by_sentence or index in cue_by_sentence:
                cues_by_sentence.setdefault(index, {k: [] for k in cues})[kind].append(hit)

    quoted = [(m.start(), m.end(), m.group()[0]) for m in _QUOTED.finditer(norm)]
    reasons: list[str] = []
    ignored: list[str] = []
    risk = NONE
    high_count = 0
    plain_lows: dict[str, str] = {}  # label -> category, for lows the rules did not cap
    found_cues: list[tuple[str, str, int, str]] = []
    for index in sorted(by_sentence.keys() | cue_by_sentence.keys()):
        s_start, s_end = sentences[index]
        here = cues_by_sentence.get(index) or {k: [] for k in cues}
        sent = _Sentence(norm, s_start, s_end, lex, here["clause-break"], here["coordination"])
        academic = [h for h in here["academic"] if sent.aligned(h)]
        benign = [h for h in here["benign"] if sent.aligned(h)]
        for cand in _most_specific(cue_by_sentence.get(index, [])):
            level, note = _judge(sent, cand, vetoes, academic, benign, quoted)
            person = _person_of(note)
            # Capped by a veto or a question: not a cue. Capped by the person rule: someone
            # else's (third person) or still the writer's (second person, see _person_of).
            if level == HIGH or (level == LOW and " person:" in note and "question:" not in note):
                category, weight = cand.pattern.cue
                if category == "plan" and weight == 1:
                    # A bare time ("on Thursday night") says when, not whose: it is the
                    # writer's opportunity whoever else the sentence names.
                    person = ""
                found_cues.append((category, cand.text, weight, person))
        for cand in _most_specific(by_sentence.get(index, [])):
            level, note = _judge(sent, cand, vetoes, academic, benign, quoted)
            label = f"{cand.pattern.category}: {cand.text}"
            if level == NONE:
                ignored.append(f"{label} ({note})")
                continue
            reasons.append(f"{label} ({note})" if note else label)
            if "question:" not in note:
                # The pattern is a conversation cue too: a high one as strong (3), a low as 2.
                person = _person_of(note)
                if cand.pattern.category == "third-party":
                    person = person or "third"
                found_cues.append(
                    (
                        _CUE_OF_CATEGORY[cand.pattern.category],
                        cand.text,
                        3 if level == HIGH else 2,
                        person,
                    )
                )
            if level == LOW and not note and cand.pattern.level == LOW:
                plain_lows.setdefault(label, cand.pattern.category)
            if _RANK[level] > _RANK[risk]:
                risk = level
            if level == HIGH:
                high_count += 1
        if high_count >= _MAX_HIGH_REASONS or len(reasons) >= _MAX_REASONS:
            break
    if risk == LOW and len(plain_lows) >= 2 and set(plain_lows.values()) - _NON_ESCALATING:
        risk = HIGH
        reasons.append("combined warning signs: " + " + ".join(plain_lows))
    return Detection(risk, list(dict.fromkeys(reasons)), list(dict.fromkeys(ignored)), found_cues)


def _person_of(note: str) -> str:
    """Whose cue it is, from the person rule's note: "third" for someone else's. A second
    person in a client's message is the listener ("see you tonight"), so the cue stays the
    writer's (recall over precision)."""
    return "third" if "third person:" in note else ""


def _most_specific(cands: list[_Candidate]) -> list[_Candidate]:
    """Drop a match lying inside a longer one of at least its level: "rather die than live"
    wins over "rather die", 好想死 over 想死. For the same span twice, keep the higher level,
    then the more specific wording ("saving up…pills" over "saving…pills")."""

    def beats(d: _Candidate, c: _Candidate) -> bool:
        if not (d.start <= c.start and c.end <= d.end):
            return False
        if _RANK[d.pattern.level] != _RANK[c.pattern.level]:
            return _RANK[d.pattern.level] > _RANK[c.pattern.level]
        if (d.end - d.start) != (c.end - c.start):
            return (d.end - d.start) > (c.end - c.start)
        return (len(d.text), -cands.index(d)) > (len(c.text), -cands.index(c))

    keep = [c for c in cands if not any(d is not c and beats(d, c) for d in cands)]
    return sorted(keep, key=lambda c: (c.start, c.end))


def _judge(sent: _Sentence, cand: _Candidate, vetoes, academic, benign, quoted) -> tuple[str, str]:
    """The level a candidate keeps after the rules, and why it changed ("" if it did not)."""
    level, notes = cand.pattern.level, []

    # Vetoes: hyperbole and fixed expressions containing the match (想死你了, 跳楼价,
    # "suicide prevention", "cut myself some slack").
    for hit, veto in vetoes:
        if hit.start <= cand.start and cand.end <= hit.end and _RANK[veto.cap] < _RANK[level]:
            level = veto.cap
            notes.append(f"{veto.kind}: {hit.text}")
    if level == NONE:
        return NONE, "; ".join(notes)

    negator = _negation(sent, cand)
    if negator:
        return NONE, f"negated: {negator}"

    if cand.pattern.category in _PHYSICAL_CATEGORIES:
        clause = sent.clause_at(cand.start)
        for cue in benign:
            if not overlaps_words(cand, cue) and sent.clause_at(cue.start) == clause:
                return NONE, f"accident/everyday context: {cue.text}"

    quote = next(((s, e, mark) for s, e, mark in quoted if s < cand.start and cand.end < e), None)
    if quote and quote[2] in "《〈":
        return NONE, "title of a work"
    if cand.pattern.scope == "topic" or quote:
        # Reported speech is judged from the words before the opening quote mark.
        anchor = quote[0] if quote else cand.start
        cue = _academic(sent, cand, anchor, academic, whole_sentence=bool(quote))
        if cue:
            return NONE, f"research/media/work context: {cue}"
        person, word = _person(sent, anchor, cand.end)
        if person in ("third", "second") and _RANK[level] > _RANK[LOW]:
            level = LOW
            notes.append(f"{person} person: {word}")
    asked = _question(sent, cand)
    if asked and _RANK[level] > _RANK[LOW]:
        level = LOW
        notes.append(f"question: {asked}")
    return level, "; ".join(notes)


def overlaps_words(cand: _Candidate, hit: _Hit) -> bool:
    """Whether `hit` overlaps the words of a match. For a proximity pair ("hanging…cord",
    刀…划) only its two phrases count, not the gap between them: "hanging pictures … the cord"
    and 拿刀削苹果划了 have their everyday context inside the gap."""
    first, sep, second = cand.text.partition("…")
    if not sep:
        return hit.start < cand.end and cand.start < hit.end
    spans = ((cand.start, cand.start + len(first)), (cand.end - len(second), cand.end))
    return any(hit.start < end and start < hit.end for start, end in spans)


def _question(sent: _Sentence, cand: _Candidate) -> str | None:
    """A yes/no question form just before the match (医生问我有没有想过伤害自己): the text
    asks about it rather than states it. Only the nearest few tokens count, so a question
    elsewhere in the clause does not soften a statement."""
    cues = sent.lex.token_cues["question"]
    clause = sent.clause_at(cand.start)
    before = [(i, t) for i, t in sent.clause_tokens(clause) if t.end <= cand.start][-4:]
    for i, tok in before:
        if tok.text in cues:
            return tok.text
        if _a_not_a(sent, i):
            return sent.tokens[i - 1].text + tok.text
    return None
