"""`manage.py crisis_screen`: screen mode (stdin / --input) and --eval on the data sets."""

import io
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

DATA = Path(__file__).resolve().parent / "data"

pytestmark = pytest.mark.skipif(
    not apps.is_installed("ethics"), reason='"ethics" is not in INSTALLED_APPS yet'
)


def run(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command("crisis_screen", *args, stdout=out, **kwargs)
    return out.getvalue()


def test_screen_reads_stdin_one_json_per_line():
    lines = run(
        stdin=io.StringIO("我不想活了\n累死了\nI'm not suicidal\n\nI want to kill myself\n")
    )
    results = [json.loads(line) for line in lines.splitlines()]
    assert [r["risk"] for r in results] == ["high", "none", "none", "none", "high"]
    assert results[0] == {"risk": "high", "reasons": ["suicidal-ideation: 不想活"]}
    assert "不想活" in lines.splitlines()[0]  # ensure_ascii=False: Chinese is not escaped


def test_screen_explain_lists_ignored_matches():
    result = json.loads(run("--explain", stdin=io.StringIO("I'm not suicidal\n")))
    score = result.pop("score")
    assert result == {
        "risk": "none",
        "reasons": [],
        "ignored": ["suicidal-ideation: suicidal (negated: not)"],
    }
    assert 0.0 <= score < 0.5  # the learned score, low for a negated statement


def test_screen_reads_input_file(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("想死你了\n我想跳楼\n", encoding="utf-8")
    risks = [json.loads(line)["risk"] for line in run("--input", str(path)).splitlines()]
    assert risks == ["none", "high"]


def evaluate(name: str) -> dict:
    return json.loads(run("--eval", str(DATA / name)))


@pytest.mark.parametrize("name", ["crisis_dev.tsv", "crisis_heldout.tsv"])
def test_eval_meets_the_targets(name):
    summary = evaluate(name)
    assert summary["recall_high"] >= 0.95, summary["misses"]
    assert summary["false_positive_rate"] <= 0.05, summary["misses"]
    assert summary["n_high"] > 0 and summary["n_none"] > 0
    assert "low" in summary["note"]


def test_heldout_set_is_large_and_balanced():
    summary = evaluate("crisis_heldout.tsv")
    assert summary["n_high"] + summary["n_none"] >= 120
    assert abs(summary["n_high"] - summary["n_none"]) <= 10


@pytest.mark.parametrize(
    "name", ["crisis_fresh.tsv", "crisis_fresh2.tsv", "crisis_fresh3.tsv", "crisis_fresh4.tsv"]
)
def test_later_rounds_do_not_regress(name):
    """The blind rounds (see ethics/lexicon/README.md for their first, blind scores).
    Some high lines there are left low on purpose (context-only wording), so the floor
    is lower than the target."""
    summary = evaluate(name)
    assert summary["recall_high"] >= 0.85, summary["misses"]
    assert summary["false_positive_rate"] <= 0.05, summary["misses"]


def test_eval_reports_misses_with_text(tmp_path):
    path = tmp_path / "tiny.tsv"
    path.write_text(
        "label\ttext\nhigh\t很绝望\nnone\t我想死\nhigh\t我不想活了\nnone\t累死了\n",
        encoding="utf-8",
    )
    summary = evaluate_path(path)
    assert summary["recall_high"] == 0.5
    assert summary["false_positive_rate"] == 0.5
    assert {(m["kind"], m["text"], m["risk"]) for m in summary["misses"]} == {
        ("false_negative", "很绝望", "low"),  # low counts as not-high
        ("false_positive", "我想死", "high"),
    }


def evaluate_path(path: Path) -> dict:
    return json.loads(run("--eval", str(path)))


def test_eval_rejects_bad_labels(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("label\ttext\nmaybe\tsomething\n", encoding="utf-8")
    with pytest.raises(CommandError, match="label"):
        run("--eval", str(path))
