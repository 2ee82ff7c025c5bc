"""`manage.py crisis_screen --eval` on JSONL conversations and the three figures (issue 12)."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

DATA = Path(__file__).resolve().parent / "data"


def run(*args) -> dict:
    out = io.StringIO()
    call_command("crisis_screen", *args, stdout=out)
    return json.loads(out.getvalue())


def test_jsonl_reports_conversation_and_message_figures(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(c, ensure_ascii=False)
            for c in [
                {
                    "label": "high",
                    "messages": [
                        "honestly nobody would miss me",
                        {"text": "I stopped at the pharmacy and bought a lot of pills"},
                    ],
                },
                {"label": "none", "messages": ["we're moving abroad", "flight is tonight"]},
            ]
        ),
        encoding="utf-8",
    )
    summary = run("--eval", str(path))
    assert summary["conversation_recall_high"] == 1.0
    assert summary["conversation_false_alarm_rate"] == 0.0
    assert summary["message_recall_high"] == 0.0  # each message alone is quiet
    assert {"conversation_surfaced_recall", "message_surfaced_recall"} <= set(summary)


def test_the_message_screener_is_todays_detector(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(
        json.dumps(
            {"label": "high", "messages": ["nobody would miss me", "I bought a lot of pills"]}
        ),
        encoding="utf-8",
    )
    assert run("--eval", str(path), "--screener", "message")["conversation_recall_high"] == 0.0
    assert run("--eval", str(path))["conversation_recall_high"] == 1.0


def test_tsv_reports_surfaced_figures():
    summary = run("--eval", str(DATA / "crisis_dev.tsv"))
    assert summary["surfaced_recall"] >= summary["recall_high"]
    assert summary["screener"] == "conversation"


def test_blind_round_5_conversations_reach_high_and_hard_negatives_do_not():
    summary = run("--eval", str(DATA / "conversations_fresh5.jsonl"))
    assert summary["conversation_recall_high"] >= 0.9, summary["misses"]
    assert summary["conversation_false_alarm_rate"] == 0.0, summary["misses"]


@pytest.mark.parametrize(
    "line, error",
    [
        ('{"label": "maybe", "messages": ["x"]}', "label"),
        ('{"label": "high", "messages": []}', "messages"),
        ("not json", "not JSON"),
    ],
)
def test_bad_jsonl_names_the_line(tmp_path, line, error):
    path = tmp_path / "bad.jsonl"
    path.write_text(line, encoding="utf-8")
    with pytest.raises(CommandError, match=error):
        run("--eval", str(path))
