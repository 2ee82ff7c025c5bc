"""Optional fit between a client's note and a counselor's bio and specialties.

One interface, `NoteFit.fit(note, documents) -> {counselor id: 0..1}`, chosen by
`settings.MATCHING_NOTE_FIT` (a dotted path; empty turns it off, and the engine works the same
without it). The scorer adds `Weights.note_fit` times the value.

The built-in `CharNgramFit` is lexical, not a neural model: TF-IDF cosine over Chinese character
bigrams and English word stems, so "失眠" in a note meets "睡眠与失眠" in a bio and "panic attacks"
meets "panic". No pip-installable multilingual embedding model ships its weights inside the
package (they download from a model hub at first use, which this deployment cannot rely on), so
a model-backed `NoteFit` is left for when one can be vendored; it only has to implement `fit`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

_CJK = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z]{3,}")
# Words that say nothing about fit (English); Chinese bigrams are weighted down by IDF instead.
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "have",
        "has",
        "had",
        "was",
        "were",
        "are",
        "you",
        "your",
        "about",
        "from",
        "they",
        "them",
        "their",
        "what",
        "when",
        "where",
        "which",
        "would",
        "could",
        "should",
        "into",
        "just",
        "feel",
        "feeling",
        "really",
        "very",
        "been",
        "being",
        "some",
        "more",
        "most",
        "much",
        "also",
        "than",
        "then",
        "there",
        "here",
        "want",
        "need",
        "like",
        "talk",
        "talking",
    ]
)


class NoteFit(Protocol):
    def fit(self, note: str, documents: dict[int, str]) -> dict[int, float]: ...


def _terms(text: str) -> Counter:
    text = text.lower()
    terms: Counter = Counter()
    for run in _CJK.findall(text):
        if len(run) == 1:
            terms[run] += 1
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    for word in _WORD.findall(text):
        if word not in _STOP:
            terms[word[:6]] += 1  # a crude stem: anxiety/anxious, sleeping/sleepless
    return terms


class CharNgramFit:
    def fit(self, note: str, documents: dict[int, str]) -> dict[int, float]:
        query = _terms(note)
        if not query or not documents:
            return {}
        docs = {cid: _terms(text) for cid, text in documents.items()}
        n = len(docs)
        df = Counter(t for terms in docs.values() for t in set(terms))

        def weigh(terms: Counter) -> dict[str, float]:
            return {
                t: (1 + math.log(c)) * math.log(1 + n / (1 + df.get(t, 0)))
                for t, c in terms.items()
            }

        q = weigh(query)
        q_norm = math.sqrt(sum(v * v for v in q.values())) or 1.0
        out = {}
        for cid, terms in docs.items():
            d = weigh(terms)
            dot = sum(w * d[t] for t, w in q.items() if t in d)
            if dot:
                d_norm = math.sqrt(sum(v * v for v in d.values())) or 1.0
                out[cid] = min(1.0, dot / (q_norm * d_norm))
        return out


@lru_cache(maxsize=4)
def _load(path: str) -> NoteFit:
    return import_string(path)()


def note_fit() -> NoteFit | None:
    path = getattr(settings, "MATCHING_NOTE_FIT", "")
    return _load(path) if path else None
