"""The lexicon data files: well formed, sourced, and every entry reachable."""

import pytest

from ethics import detector
from ethics.detector import HIGH, LOW, NONE, LexiconError, _read_tsv, crisis_detect, expand, lexicon

RANK = {NONE: 0, LOW: 1, HIGH: 2}
FILES = ["patterns.tsv", "proximity.tsv", "vetoes.tsv", "context.tsv", "traditional.tsv"]


def test_lexicon_loads():
    lex = lexicon()
    assert lex.phrase_count > 1000
    assert lex.rules


@pytest.mark.parametrize("name", FILES)
def test_every_row_is_complete_and_sourced(name):
    rows = _read_tsv(name)
    assert rows
    for row in rows:
        if name != "traditional.tsv":
            assert len(row["source"]) >= 5, row["_where"]


def test_readme_documents_every_file():
    readme = (detector.LEXICON_DIR / "README.md").read_text(encoding="utf-8")
    for name in FILES:
        assert f"`{name}`" in readme


def test_every_pattern_reaches_its_level_on_its_own():
    """Each expansion of each pattern, screened alone, is at least its own level: no entry
    is silently cancelled by a veto, a context cue or a typo in its own wording."""
    for row in _read_tsv("patterns.tsv"):
        for phrase in expand(row["pattern"]):
            risk = crisis_detect(phrase).risk
            assert RANK[risk] >= RANK[row["level"]], (row["_where"], phrase, risk)


def test_every_proximity_rule_fires():
    for row in _read_tsv("proximity.tsv"):
        first, second = expand(row["first"])[0], expand(row["second"])[0]
        text = first + ("" if not first.isascii() else " ") + second
        assert RANK[crisis_detect(text).risk] >= RANK[row["level"]], (row["_where"], text)


def test_chinese_token_cues_are_single_jieba_words():
    """Token cues are compared with jieba words (HMM off); a cue jieba always splits would
    never match, so catch it here."""
    segmenter = detector._segmenter()
    for row in _read_tsv("context.tsv"):
        if row["lang"] != "zh" or row["kind"] in detector.CUE_PHRASE_KINDS:
            continue
        for cue in expand(row["cue"]):
            words = list(segmenter.cut(cue, HMM=False))
            assert words == [cue], (row["_where"], cue, words)


def test_malformed_rows_are_reported_with_file_and_line(tmp_path, monkeypatch):
    monkeypatch.setattr(detector, "LEXICON_DIR", tmp_path)
    (tmp_path / "patterns.tsv").write_text(
        "# comment\npattern\tlang\tcategory\tlevel\tscope\tsource\n"
        "想死\tzh\tsuicidal-ideation\thigh\ttopic\n",  # no source
        encoding="utf-8",
    )
    with pytest.raises(LexiconError, match=r"patterns.tsv:3"):
        _read_tsv("patterns.tsv")


@pytest.mark.parametrize("pattern", ["{a|b", "a}b", "{{a}"])
def test_unbalanced_braces(pattern):
    with pytest.raises(LexiconError):
        expand(pattern)
