"""Feedback keywords: Chinese segmented with jieba, English tokenised by a word pattern, and
stop-words removed (the lists in insights/data/). Pure; used only while materialising, so a
comment is read, reduced to a set of keywords and never copied."""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

DATA = Path(__file__).resolve().parent / "data"
HAN = re.compile(r"[\u4e00-\u9fff]+")
LATIN = re.compile(r"[a-z][a-z']+")


@cache
def stop_words(language: str) -> frozenset[str]:
    lines = (DATA / f"stopwords_{language}.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def comment_keywords(text: str) -> set[tuple[str, str]]:
    """The distinct (language, word) keywords of one comment: Chinese words of two or more
    characters, English words of three or more letters, neither a stop-word."""
    found: set[tuple[str, str]] = set()
    for run in HAN.findall(text):
        for word in jieba.lcut(run):
            if len(word) >= 2 and word not in stop_words("zh"):
                found.add(("zh", word[:60]))
    for word in LATIN.findall(text.lower()):
        word = word.strip("'")
        if len(word) >= 3 and word not in stop_words("en"):
            found.add(("en", word[:60]))
    return found
