"""The learned half of crisis screening (ethics/classifier.py), its exported model
(ethics/model/), the corpus it is trained on (ethics/corpus/) and how `crisis_detect`
combines it with the rules (ethics.detector.combine)."""

import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ethics.classifier import MANIFEST_FILE, MODEL_FILE, Thresholds, risk_score, thresholds
from ethics.detector import HIGH, LEARNED, LOW, NONE, combine, crisis_detect, rules_detect

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "ethics" / "corpus" / "crisis_corpus.tsv"
SCRIPT = ROOT / "scripts" / "train_crisis_classifier.py"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _training_script():
    spec = importlib.util.spec_from_file_location("train_crisis_classifier", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _manifest() -> dict:
    return json.loads(MANIFEST_FILE.read_text(encoding="utf-8"))


def _score(text: str) -> float:
    return risk_score(text, rules=rules_detect(text))


# --- the exported model and what it was trained on -------------------------------------------


def test_manifest_training_data_hash_matches_the_corpus():
    assert _manifest()["training_data_sha256"] == _sha256(CORPUS)


def test_manifest_lexicon_hash_matches_the_lexicon():
    """The model reads the rules' verdict, so a lexicon change without retraining fails here."""
    assert _manifest()["lexicon_sha256"] == _training_script().lexicon_sha256()


def test_manifest_model_hash_matches_the_model_file():
    assert _manifest()["model_sha256"] == _sha256(MODEL_FILE)


def test_corpus_is_well_formed_and_split_by_hash():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    rows = _manifest()["rows"]
    assert f"{sum(rows.values())} rows, ok" in result.stdout


def test_thresholds_come_from_the_manifest_and_check_is_below_high():
    limits = thresholds()
    assert limits == Thresholds(**_manifest()["thresholds"])
    assert 0.0 < limits.check <= limits.high < 1.0


# --- the score --------------------------------------------------------------------------------


def test_exported_model_scores_are_deterministic():
    text = "I've been saving my sleeping pills for a month"
    assert len({_score(text) for _ in range(5)}) == 1


@pytest.mark.parametrize(
    "text",
    ["", "ok", "I want to kill myself", "我不想活了", "see you next week", "a" * 10_000],
)
def test_score_is_between_zero_and_one(text):
    assert 0.0 <= _score(text) <= 1.0


def test_indirect_risk_scores_above_everyday_talk():
    assert _score("I've been saving my sleeping pills for a month") > 0.5
    assert _score("see you next week, thanks") < thresholds().check


def test_language_argument_does_not_change_the_score():
    text = "我最近一直在攒安眠药"
    rules = rules_detect(text)
    assert risk_score(text, "zh", rules=rules) == risk_score(text, "en", rules=rules)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_unscored(text):
    detection = crisis_detect(text)
    assert (detection.risk, detection.score, detection.cues) == (NONE, None, [])


def test_rules_alone_are_unscored():
    assert rules_detect("I want to kill myself").score is None


# --- combined with the rules (ethics.detector.combine) ----------------------------------------


@pytest.mark.parametrize("text", ["I want to kill myself", "我不想活了"])
def test_direct_high_statement_stays_high_whatever_the_score(text):
    rules = rules_detect(text)
    assert rules.risk == HIGH
    for score in (0.0, 0.5, 1.0):
        assert combine(rules, score, thresholds()).risk == HIGH


def test_combine_does_not_change_the_rules_verdict():
    rules = rules_detect("I want to kill myself")
    before = (rules.risk, list(rules.reasons), list(rules.cues), rules.score)
    combine(rules, 0.99, thresholds())
    assert (rules.risk, rules.reasons, rules.cues, rules.score) == before


def test_score_at_the_check_threshold_adds_a_learned_cue():
    limits = Thresholds(high=0.9, check=0.6)
    rules = rules_detect("see you next week, thanks")
    assert combine(rules, 0.59, limits).cues == []
    cues = combine(rules, 0.6, limits).cues
    assert [(c[0], c[2], c[3]) for c in cues] == [(LEARNED, 2, "")]
    assert combine(rules, 0.6, limits).risk == NONE  # alone it is a cue, not an outcome


def test_score_at_the_high_threshold_makes_a_strong_learned_cue():
    limits = Thresholds(high=0.9, check=0.6)
    cues = combine(rules_detect("see you next week, thanks"), 0.9, limits).cues
    assert [(c[0], c[2]) for c in cues] == [(LEARNED, 3)]


def test_score_at_the_high_threshold_with_an_own_rule_cue_is_high():
    text = "I keep a rope in my car"
    rules = rules_detect(text)
    assert rules.risk != HIGH and any(not c[3] and c[2] >= 2 for c in rules.cues)
    combined = combine(rules, 0.9, Thresholds(high=0.9, check=0.6))
    assert combined.risk == HIGH
    assert combined.reasons[-1].startswith("learned: score 0.90 with ")


def test_a_high_score_beside_hopelessness_alone_is_not_high():
    """Burden or hopelessness without being gone is a check (the corpus's label guidelines),
    however confident the score."""
    rules = rules_detect("感觉自己就是个多余的人")
    assert rules.risk == LOW and {c[0] for c in rules.cues if not c[3]} == {"hopelessness"}
    combined = combine(rules, 0.99, Thresholds(high=0.9, check=0.6))
    assert combined.risk == LOW
    assert [(c[0], c[2]) for c in combined.cues if c[0] == LEARNED] == [(LEARNED, 3)]


def test_a_supporting_cue_alone_does_not_make_a_high_score_high():
    rules = rules_detect("going back tomorrow morning")
    assert rules.cues and all(c[2] == 1 for c in rules.cues)
    assert combine(rules, 0.99, Thresholds(high=0.9, check=0.6)).risk == NONE


def test_high_score_without_any_rule_cue_is_not_high():
    combined = combine(rules_detect("see you next week"), 0.99, Thresholds(high=0.9, check=0.6))
    assert combined.risk == NONE


def test_third_party_wording_gives_a_third_person_learned_cue():
    rules = rules_detect("my friend wants to die")
    assert rules.cues and all(c[3] == "third" for c in rules.cues)
    combined = combine(rules, 0.95, Thresholds(high=0.9, check=0.6))
    assert combined.risk != HIGH
    assert [c[3] for c in combined.cues if c[0] == LEARNED] == ["third"]


def test_accident_context_leaves_no_learned_cue_whatever_the_score():
    rules = rules_detect("I cut myself again shaving this morning")
    assert rules.cues == [] and rules.ignored
    assert combine(rules, 0.99, Thresholds(high=0.9, check=0.6)).cues == []


def test_crisis_detect_records_the_score_and_explains_it():
    detection = crisis_detect("I've been saving my sleeping pills for a month")
    assert detection.score == _score("I've been saving my sleeping pills for a month")
    assert detection.as_dict(explain=True)["score"] == round(detection.score, 4)
    assert "score" not in detection.as_dict()


# --- no scikit-learn at run time; deterministic training --------------------------------------


def test_scoring_does_not_import_sklearn():
    code = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "sklearn" or name.startswith("sklearn.") or name == "scipy" \\
                or name.startswith("scipy."):
            raise ImportError(f"blocked: {name}")

sys.meta_path.insert(0, Block())
from ethics.detector import crisis_detect
d = crisis_detect("I've been saving my sleeping pills for a month")
assert d.score is not None
assert not [m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy")]
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_fitting_is_deterministic_on_a_small_subset():
    script = _training_script()
    rows = script.read_corpus()[::10]
    fits = [script._fit(rows, 3.0) for _ in range(2)]
    (v1, m1), (v2, m2) = fits
    assert v1.get_feature_names_out().tolist() == v2.get_feature_names_out().tolist()
    assert np.array_equal(m1.coef_, m2.coef_) and np.array_equal(m1.intercept_, m2.intercept_)


def test_retraining_reproduces_the_committed_model(tmp_path):
    """The whole script (~20 s) into a temporary directory. The same vocabulary, idf,
    thresholds and figures; coefficients to 1e-6 (liblinear's last bits can differ between
    machines; on the machine that exported the model the files are byte-identical)."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    committed = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    fresh = json.loads((tmp_path / MODEL_FILE.name).read_text(encoding="utf-8"))
    assert fresh["vocabulary"] == committed["vocabulary"]
    assert fresh["idf"] == committed["idf"]
    assert np.allclose(fresh["coef"], committed["coef"], rtol=0, atol=1e-6)
    assert abs(fresh["intercept"] - committed["intercept"]) < 1e-6
    new_manifest = json.loads((tmp_path / MANIFEST_FILE.name).read_text(encoding="utf-8"))
    old_manifest = _manifest()
    for key in ("model_sha256", "sklearn_version", "numpy_version"):
        new_manifest.pop(key), old_manifest.pop(key)
    assert new_manifest == old_manifest
