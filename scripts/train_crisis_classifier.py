"""Train the learned half of the crisis screen and export it as plain data (issue 12, point 2).

    .venv/bin/python scripts/train_crisis_classifier.py          # train, export, print figures
    .venv/bin/python scripts/train_crisis_classifier.py --check  # only verify the corpus
    .venv/bin/python scripts/train_crisis_classifier.py --out-dir /tmp/m  # export elsewhere

Features: `ethics.classifier.features`, i.e. word 1-2-grams (English), character 1-3-grams
(Chinese) and the rules' verdict on the same text (`ethics.detector.rules_detect`).

Reads `ethics/corpus/crisis_corpus.tsv` (see its README for the columns and label rules) and
writes `ethics/model/crisis_classifier.json` (vocabulary, idf, coefficients, intercept) and
`ethics/model/manifest.json` (the sha256 of the corpus file, library versions, the settings,
the thresholds and the validation and test figures). The app scores with numpy alone
(`ethics/classifier.py`); scikit-learn is a development tool and is imported here only.

Deterministic: the split is a hash of each text (the corpus stores it and this script
checks it), liblinear with a fixed random_state, folds with a fixed seed, and the output is
written with sorted keys. Running it twice on the same corpus gives byte-identical files.

Targets: `high` is 1, `none` is 0, and a `check` line counts half each way (it is put in
twice, once with either target, each with weight 0.5), so its learned score sits between.

Regularisation C: from a fixed grid, the one with the best mean 5-fold cross-validated
ROC AUC on the training split (mean of two AUCs: high against the rest, and high or check
against none).

Thresholds, chosen on the validation split only, for the screen as it runs (the rules and
the score combined by `ethics.detector.combine`, each line as a one-message conversation
through `ethics.conversation.conversation_assess`): over a grid of pairs check <= high, the
pairs whose false alarms on the validation `none` lines are at most HIGH_FA (high) and at
most SURFACED_FA (high or check), the goals of issue 12; among them the best high recall on
the `high` lines, then the best surfaced recall on the `high` and `check` lines, then the
highest thresholds (fewest alarms). The score-alone figures are reported beside them.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ethics.classifier import MANIFEST_FILE, MODEL_FILE, Thresholds, features
from ethics.conversation import CHECK, conversation_assess, message_screen
from ethics.detector import HIGH, LEXICON_DIR, combine, rules_detect

CORPUS = ROOT / "ethics" / "corpus" / "crisis_corpus.tsv"
# The lexicon files `rules_detect` reads: the model takes the rules' verdict as input, so a
# change to any of them needs a retrain (tests/ethics/test_classifier.py checks the hash).
# rules.tsv (the conversation rule table) is applied after the score and is not among them.
RULE_INPUTS = (
    "context.tsv",
    "cue_pairs.tsv",
    "cues.tsv",
    "patterns.tsv",
    "proximity.tsv",
    "traditional.tsv",
    "vetoes.tsv",
)
COLUMNS = ["text", "language", "label", "cue_family", "source", "split"]
LABELS = {"high", "check", "none"}
LANGUAGES = {"zh", "en"}
SPLITS = ("train", "validation", "test")
C_GRID = (1.0, 3.0, 10.0, 30.0)
RANDOM_STATE = 12
HIGH_FA = 0.05
SURFACED_FA = 0.15
GRID = tuple(round(0.30 + 0.01 * i, 2) for i in range(66))  # 0.30 .. 0.95


def split_of(text: str) -> str:
    """The split a text belongs to: 15% validation, 15% test, 70% train, by its sha256."""
    bucket = int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % 20
    return "validation" if bucket < 3 else "test" if bucket < 6 else "train"


def read_corpus(path: Path = CORPUS) -> list[dict]:
    """The corpus rows; stops with file:line on anything malformed, a duplicate text, or a
    split that is not the text's hash."""
    rows, seen = [], set()
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        if reader.fieldnames != COLUMNS:
            sys.exit(f"{path}: header must be {COLUMNS}, got {reader.fieldnames}")
        for lineno, row in enumerate(reader, 2):
            where = f"{path}:{lineno}"
            if None in row or any(not (row[c] or "").strip() for c in COLUMNS):
                sys.exit(f"{where}: every one of the {len(COLUMNS)} columns must be filled in")
            if row["label"] not in LABELS or row["language"] not in LANGUAGES:
                sys.exit(f"{where}: bad label {row['label']!r} or language {row['language']!r}")
            if row["split"] != split_of(row["text"]):
                sys.exit(f"{where}: split must be {split_of(row['text'])!r} (hash of the text)")
            if row["text"] in seen:
                sys.exit(f"{where}: duplicate text")
            seen.add(row["text"])
            rows.append(row)
    return rows


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lexicon_sha256() -> str:
    """One hash over the lexicon files the model reads through the rules (name and bytes)."""
    digest = hashlib.sha256()
    for name in RULE_INPUTS:
        digest.update(name.encode() + b"\0" + (LEXICON_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()


_verdicts: dict[str, object] = {}


def analyzer(text: str) -> list[str]:
    """`ethics.classifier.features` with the rules' verdict on the text, as at run time."""
    if text not in _verdicts:
        _verdicts[text] = rules_detect(text)
    return features(text, _verdicts[text])


def _stacked(rows: list[dict]):
    """Texts, targets and weights with each `check` line in twice (target 1 and 0, weight
    0.5 each)."""
    texts, y, w = [], [], []
    for row in rows:
        if row["label"] == "check":
            texts += [row["text"], row["text"]]
            y += [1, 0]
            w += [0.5, 0.5]
        else:
            texts.append(row["text"])
            y.append(int(row["label"] == "high"))
            w.append(1.0)
    return texts, np.asarray(y), np.asarray(w)


def _fit(rows: list[dict], c: float):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, y, w = _stacked(rows)
    vectorizer = TfidfVectorizer(
        analyzer=analyzer, sublinear_tf=True, norm="l2", smooth_idf=True, min_df=1
    )
    x = vectorizer.fit_transform(texts)
    # class_weight balances high against not-high; liblinear is deterministic given the seed.
    model = LogisticRegression(
        C=c, solver="liblinear", class_weight="balanced", random_state=RANDOM_STATE, max_iter=1000
    )
    model.fit(x, y, sample_weight=w)
    return vectorizer, model


def _auc(rows: list[dict], scores) -> float:
    from sklearn.metrics import roc_auc_score

    labels = [r["label"] for r in rows]
    high = roc_auc_score([lab == "high" for lab in labels], scores)
    pos = [i for i, lab in enumerate(labels)]
    surfaced = roc_auc_score([labels[i] != "none" for i in pos], [scores[i] for i in pos])
    return (high + surfaced) / 2


def choose_c(train: list[dict]) -> tuple[float, dict]:
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=RANDOM_STATE)
    labels = [r["label"] for r in train]
    results = {}
    for c in C_GRID:
        aucs = []
        for fit_idx, held_idx in folds.split(np.zeros(len(train)), labels):
            vectorizer, model = _fit([train[i] for i in fit_idx], c)
            held = [train[i] for i in held_idx]
            scores = model.decision_function(vectorizer.transform([r["text"] for r in held]))
            aucs.append(_auc(held, list(scores)))
        results[str(c)] = round(float(np.mean(aucs)), 4)
    best = max(C_GRID, key=lambda c: (results[str(c)], -c))  # ties: the stronger regularisation
    return best, results


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def outcome(verdict, score: float, limits: Thresholds) -> str:
    """A line's outcome in the screen as it runs, for candidate thresholds."""
    return conversation_assess([message_screen(combine(verdict, score, limits), 0)]).level


def screen_figures(rows: list[dict], scores, limits: Thresholds) -> dict:
    """The combined screen's figures on labelled lines (check lines count in surfaced
    recall only)."""
    tally = {"high": [], "check": [], "none": []}
    for row, score in zip(rows, scores):
        tally[row["label"]].append(outcome(_verdicts[row["text"]], float(score), limits))
    high, check, none = tally["high"], tally["check"], tally["none"]

    def rate(hits, n):
        return round(hits / n, 4) if n else None

    return {
        "recall_high": rate(sum(o == HIGH for o in high), len(high)),
        "false_alarms_high": rate(sum(o == HIGH for o in none), len(none)),
        "surfaced_recall": rate(sum(o in (HIGH, CHECK) for o in high + check), len(high + check)),
        "surfaced_false_alarms": rate(sum(o in (HIGH, CHECK) for o in none), len(none)),
    }


def choose_thresholds(rows: list[dict], scores) -> tuple[Thresholds, dict]:
    """The grid search of the module doc, on the validation split."""
    for row in rows:
        analyzer(row["text"])  # the rules' verdict, cached
    best, best_key, best_figures = None, None, None
    for t_high in GRID:
        for t_check in (t for t in GRID if t <= t_high):
            limits = Thresholds(high=t_high, check=t_check)
            f = screen_figures(rows, scores, limits)
            if f["false_alarms_high"] > HIGH_FA or f["surfaced_false_alarms"] > SURFACED_FA:
                continue
            key = (f["recall_high"], f["surfaced_recall"], t_high, t_check)
            if best_key is None or key > best_key:
                best, best_key, best_figures = limits, key, f
    if best is None:
        sys.exit("no thresholds meet the false-alarm limits on the validation split")
    return best, best_figures


def figures(rows: list[dict], scores, t: dict) -> dict:
    """Score-alone figures by language: high recall / false alarms at t_high, surfaced at
    t_check (check lines are neither positives of high nor negatives)."""
    out = {}
    for lang in ("all", "en", "zh"):
        sel = [(r, s) for r, s in zip(rows, scores) if lang in ("all", r["language"])]
        high = [s for r, s in sel if r["label"] == "high"]
        none = [s for r, s in sel if r["label"] == "none"]
        surf = [s for r, s in sel if r["label"] != "none"]
        out[lang] = {
            "n_high": len(high),
            "n_check": len(surf) - len(high),
            "n_none": len(none),
            "recall_high": round(float(np.mean([s >= t["high"] for s in high])), 4),
            "false_alarms_high": round(float(np.mean([s >= t["high"] for s in none])), 4),
            "surfaced_recall": round(float(np.mean([s >= t["check"] for s in surf])), 4),
            "surfaced_false_alarms": round(float(np.mean([s >= t["check"] for s in none])), 4),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the corpus and stop")
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=MODEL_FILE.parent,
        help=f"where to write {MODEL_FILE.name} and {MANIFEST_FILE.name} (default: "
        f"{MODEL_FILE.parent.relative_to(ROOT)}, the files the app loads)",
    )
    args = parser.parse_args()
    model_file, manifest_file = args.out_dir / MODEL_FILE.name, args.out_dir / MANIFEST_FILE.name
    rows = read_corpus()
    if args.check:
        print(f"{CORPUS}: {len(rows)} rows, ok")
        return

    import sklearn

    by_split = {s: [r for r in rows if r["split"] == s] for s in SPLITS}
    c, cv = choose_c(by_split["train"])
    vectorizer, model = _fit(by_split["train"], c)

    def scores_of(split: str):
        texts = [r["text"] for r in by_split[split]]
        return _sigmoid(model.decision_function(vectorizer.transform(texts)))

    val = scores_of("validation")
    limits, val_screen = choose_thresholds(by_split["validation"], val)
    t = {"check": limits.check, "high": limits.high}
    test = scores_of("test")
    for row in by_split["test"]:
        analyzer(row["text"])

    vocabulary = vectorizer.get_feature_names_out().tolist()
    data = {
        "format": "tfidf-logreg-1",
        "features": "ethics.classifier.features",
        "vocabulary": vocabulary,
        "idf": [float(v) for v in vectorizer.idf_],
        "coef": [float(v) for v in model.coef_[0]],
        "intercept": float(model.intercept_[0]),
    }
    manifest = {
        "model_file": MODEL_FILE.name,
        "model_sha256": None,
        "training_data": str(CORPUS.relative_to(ROOT)),
        "training_data_sha256": sha256_of(CORPUS),
        "lexicon_files": list(RULE_INPUTS),
        "lexicon_sha256": lexicon_sha256(),
        "rows": {s: len(v) for s, v in by_split.items()},
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "vectorizer": "TfidfVectorizer(analyzer=features(text, rules_detect(text)), sublinear_tf=True, norm='l2', "
        "smooth_idf=True, min_df=1)",
        "classifier": f"LogisticRegression(C={c}, solver='liblinear', class_weight='balanced', "
        f"random_state={RANDOM_STATE})",
        "c_grid_cv_auc": cv,
        "thresholds": t,
        "threshold_criterion": f"on the validation split, the combined screen (rules + score, "
        f"one-message conversations): high false alarms <= {HIGH_FA:.0%} and surfaced false "
        f"alarms <= {SURFACED_FA:.0%} on `none` lines; then best high recall, best surfaced "
        f"recall, highest thresholds; grid {GRID[0]}..{GRID[-1]} step 0.01",
        "validation_figures": val_screen,
        "test_figures": screen_figures(by_split["test"], test, limits),
        "validation_figures_score_alone": figures(by_split["validation"], val, t),
        "test_figures_score_alone": figures(by_split["test"], test, t),
        "vocabulary_size": len(vocabulary),
    }
    model_file.parent.mkdir(parents=True, exist_ok=True)
    model_file.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")
    manifest["model_sha256"] = sha256_of(model_file)
    manifest_file.write_text(
        json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n", "utf-8"
    )
    summary = {k: manifest[k] for k in ("classifier", "c_grid_cv_auc", "thresholds")}
    summary["validation"] = manifest["validation_figures"]
    summary["test"] = manifest["test_figures"]
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
