"""The learned half of crisis screening (issue 12, point 2): one score per text.

    >>> from ethics.detector import rules_detect
    >>> text = "I've been saving my sleeping pills for a month"
    >>> risk_score(text, "en", rules=rules_detect(text)) > 0.5
    True

`risk_score(text, language, rules=...)` is a logistic regression over TF-IDF features: word
1-2-grams for Latin-script text (English) and character 1-3-grams for Chinese, both taken from
every text (a message that mixes the two gets both; `language` is accepted for the interface
and for callers that know it, but the features do not depend on it, so a wrong guess costs
nothing), plus a few tokens for what the lexicon's rules found in the same text (its risk
level and the categories and weights of its conversation cues, `rule_features`). The rules
are an input, not a second opinion: on the corpus's training split (1,071 lines) the words
alone separate indirect risk from hard negatives poorly (5-fold cross-validated AUC 0.79),
the two together better (0.83), because the rules already handle negation, hyperbole and
whose risk it is. The price: the model depends on the lexicon, so the manifest records the
lexicon's hash and a test fails when the lexicon changes without retraining. It is trained by
`scripts/train_crisis_classifier.py` on the corpus in `ethics/corpus/` (its data card:
`ethics/corpus/README.md`) and exported to `ethics/model/` as plain data, so that scoring
needs numpy only (scikit-learn is a development tool, not a runtime dependency).

The score is not an outcome. `ethics.detector.crisis_detect` combines it with the rules
(the lexicon README, "The learned score"): the thresholds chosen on the corpus's validation
split are in the manifest and exposed here as `thresholds()`.

Pure: no database, no Django. The model is loaded once per process, lazily.
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_FILE = MODEL_DIR / "crisis_classifier.json"
MANIFEST_FILE = MODEL_DIR / "manifest.json"
_TRADITIONAL_FILE = Path(__file__).resolve().parent / "lexicon" / "traditional.tsv"

# A pasted essay should not cost more than a chat message: the features of the first
# MAX_CHARS characters only. Long texts still go through the whole lexicon.
MAX_CHARS = 4000

_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘`´ʼ"), None)


class ModelError(RuntimeError):
    """The exported model is missing or does not match this code."""


_fold: dict[int, str | None] | None = None


def _folding() -> dict[int, str | None]:
    """Traditional -> simplified pairs (the lexicon's table, so both halves of the screen
    fold alike) plus the apostrophes, dropped ("I'm" == "im")."""
    global _fold
    if _fold is None:
        table: dict[int, str | None] = dict(_APOSTROPHES)
        header = True
        for line in _TRADITIONAL_FILE.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if header:
                header = False
                continue
            trad, simp = (c.strip() for c in line.split("\t")[:2])
            for t, s in zip(trad, simp):
                table[ord(t)] = s
        _fold = table
    return _fold


class RuleSignals(Protocol):
    """What the model reads of the rules' verdict on the same text (an
    `ethics.detector.Detection` from `rules_detect`)."""

    risk: str
    cues: Sequence[tuple[str, str, int, str]]  # category, phrase, weight, person
    ignored: Sequence[str]  # "category: phrase (rule: ...)", the matches a rule dropped


_DROPPED_BY = re.compile(r"\(([a-z]+)")


def rule_features(rules: RuleSignals | None) -> list[str]:
    """ "r:" tokens for the rules' verdict: the risk level, each conversation cue's category
    with its weight (the writer's own) or as someone else's, and the kind of rule that
    dropped a match ("negated", "accident", "research", a veto's kind). The last lets the
    model learn that "I would never hurt myself" is not "I hurt myself"."""
    if rules is None:
        return []
    out = [f"r:risk:{rules.risk}"]
    for category, _phrase, weight, person in rules.cues:
        out.append(f"r:other:{category}" if person else f"r:cue:{category}:{weight}")
    for note in rules.ignored:
        rule = _DROPPED_BY.search(note)
        out.append(f"r:dropped:{rule.group(1) if rule else 'other'}")
    return out


def features(text: str, rules: RuleSignals | None = None) -> list[str]:
    """The model's features of a text: "w:" word unigrams and bigrams of its Latin-script
    words, "c:" character 1-3-grams of each run of Chinese characters, and the "r:" tokens of
    the rules' verdict. The training script builds scikit-learn's input with this very
    function, so training and scoring cannot drift apart."""
    norm = unicodedata.normalize("NFKC", text[:MAX_CHARS]).lower().translate(_folding())
    out: list[str] = []
    words = _LATIN_WORD.findall(_CJK_RUN.sub(" ", norm))
    out.extend("w:" + w for w in words)
    out.extend(f"w:{a} {b}" for a, b in pairwise(words))
    for run in _CJK_RUN.findall(norm):
        for n in (1, 2, 3):
            out.extend("c:" + run[i : i + n] for i in range(len(run) - n + 1))
    out.extend(rule_features(rules))
    return out


@dataclass(frozen=True)
class Thresholds:
    high: float  # with a rule cue in the same text: high
    check: float  # alone: a risk check


class _Model:
    def __init__(self, data: dict) -> None:
        self.index = {feature: i for i, feature in enumerate(data["vocabulary"])}
        self.idf = np.asarray(data["idf"], dtype=np.float64)
        self.coef = np.asarray(data["coef"], dtype=np.float64)
        self.intercept = float(data["intercept"])
        if not (len(self.index) == len(self.idf) == len(self.coef)):
            raise ModelError(f"{MODEL_FILE}: vocabulary, idf and coef differ in length")

    def decision(self, text: str, rules: RuleSignals | None) -> float:
        """scikit-learn's `decision_function` for TfidfVectorizer(sublinear_tf=True,
        norm="l2") followed by LogisticRegression, computed with numpy."""
        counts: dict[int, int] = {}
        for feature in features(text, rules):
            i = self.index.get(feature)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        if not counts:
            return self.intercept
        idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        weights = tf * self.idf[idx]
        norm = math.sqrt(float(weights @ weights))
        return float(weights @ self.coef[idx]) / norm + self.intercept


_model: _Model | None = None
_manifest: dict | None = None
_lock = threading.Lock()


def _load() -> _Model:
    global _model, _manifest
    if _model is None:
        with _lock:
            if _model is None:
                try:
                    manifest = json.loads(MANIFEST_FILE.read_text(encoding="utf-8"))
                    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
                except OSError as exc:
                    # Fail loudly: a screen that silently loses half of itself is worse.
                    raise ModelError(f"crisis classifier not found in {MODEL_DIR}: {exc}") from exc
                _manifest = manifest
                _model = _Model(data)
    return _model


def manifest() -> dict:
    """The exported model's manifest (training data hash, versions, thresholds, figures)."""
    _load()
    assert _manifest is not None
    return _manifest


def thresholds() -> Thresholds:
    t = manifest()["thresholds"]
    return Thresholds(high=float(t["high"]), check=float(t["check"]))


def decision(text: str, rules: RuleSignals | None) -> float:
    """The model's raw decision value (log-odds) for a text."""
    return _load().decision(text, rules)


def risk_score(text: str, language: str | None = None, *, rules: RuleSignals | None) -> float:
    """The learned score, 0..1, that `text` states its writer's own suicide or self-harm risk.

    Precondition: `rules` is the rules' verdict on this same text
    (`ethics.detector.rules_detect(text)`); the model was trained with it, and None (no
    verdict at all, not even "none") scores a different input. `language` ("zh", "en" or
    None) does not change the score (see the module doc). An empty text scores the prior."""
    z = decision(text or "", rules)
    # A numerically safe logistic.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def warm_up() -> None:
    """Load the model now (e.g. at worker start) instead of on the first message."""
    _load()
