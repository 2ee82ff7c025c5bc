"""`manage.py crisis_screen`: run the crisis detector over text from the command line.

    echo "我不想活了" | python manage.py crisis_screen
    {"risk": "high", "reasons": ["suicidal-ideation: 不想活"]}

    python manage.py crisis_screen --eval tests/ethics/data/crisis_dev.tsv

Screen mode reads one text per line (stdin, or --input FILE) and prints one JSON object per
line. Eval mode reads a TSV with a header row and the columns `label` (high / none) and
`text`, and prints one JSON summary: recall on `high`, false-positive rate on `none`, and
every miss. The detector's `low` counts as "not high" in the eval (a low is not an alarm).
"""

import csv
import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ethics.conversation import CHECK, conversation_outcomes
from ethics.detector import HIGH, LEARNED, NONE, Detection, crisis_detect, rules_detect

EVAL_LABELS = {HIGH, NONE}
# A TSV may also label a line `check` (ethics/corpus/): it counts in the surfaced recall only.
TSV_LABELS = {HIGH, CHECK, NONE}


def _one_at_a_time(detect: Callable[[str], Detection], texts: list[str]) -> list[str]:
    """One message at a time: the outcome after each message. The detector's `low` is
    reported as `check`, and so is a text whose only cue is the learned one (alone it asks
    for a risk check). For the rules alone, `low` is an upper bound of what a check would
    catch (it surfaced nothing before issue 12)."""
    outcomes = []
    for text in texts:
        detection = detect(text)
        learned = any(c[0] == LEARNED and not c[3] for c in detection.cues)
        if detection.risk == HIGH:
            outcomes.append(HIGH)
        elif detection.risk != NONE or learned:
            outcomes.append(CHECK)
        else:
            outcomes.append(NONE)
    return outcomes


# "conversation" and "message" are the screen as it runs (rules and the learned score);
# "rules" and "rules-message" are the rules alone (the screen before issue 12, point 2).
SCREENERS = {
    "conversation": conversation_outcomes,
    "message": partial(_one_at_a_time, crisis_detect),
    "rules": partial(conversation_outcomes, detect=rules_detect),
    "rules-message": partial(_one_at_a_time, rules_detect),
}


def _rate(hits: int, n: int) -> float | None:
    return round(hits / n, 4) if n else None


def evaluate(rows: list[tuple[str, str]], screener: str = "conversation") -> dict:
    """Score (label, text) pairs, each text alone. A prediction of `high` is positive; `low`
    and `none` are negative, so a `high` text detected as `low` is a miss (false negative).
    "Surfaced" counts high or check as positive."""
    screen = SCREENERS[screener]
    n_high = n_none = n_check = true_pos = false_pos = surfaced_pos = surfaced_false = 0
    check_surfaced = 0
    misses = []
    for label, text in rows:
        outcome = screen([text])[-1]
        predicted_high = outcome == HIGH
        surfaced = outcome in (HIGH, CHECK)
        if label == CHECK:
            n_check += 1
            check_surfaced += surfaced
        elif label == HIGH:
            n_high += 1
            true_pos += predicted_high
            surfaced_pos += surfaced
            if not predicted_high:
                detection = crisis_detect(text)
                misses.append(
                    {
                        "kind": "false_negative",
                        "label": label,
                        "risk": detection.risk,
                        "outcome": outcome,
                        "text": text,
                        "reasons": detection.reasons,
                        "ignored": detection.ignored,
                    }
                )
        else:
            n_none += 1
            false_pos += predicted_high
            surfaced_false += surfaced
            if predicted_high:
                detection = crisis_detect(text)
                misses.append(
                    {
                        "kind": "false_positive",
                        "label": label,
                        "risk": detection.risk,
                        "outcome": outcome,
                        "text": text,
                        "reasons": detection.reasons,
                    }
                )
    summary = {
        "screener": screener,
        "recall_high": _rate(true_pos, n_high),
        "false_positive_rate": _rate(false_pos, n_none),
        "surfaced_recall": _rate(surfaced_pos, n_high),
        "surfaced_false_positive_rate": _rate(surfaced_false, n_none),
        "n_high": n_high,
        "n_none": n_none,
        "note": "risk 'low' counts as not-high (negative) in this evaluation; "
        "surfaced = high or check",
        "misses": misses,
    }
    if n_check:
        # `check` lines are neither positives of high nor negatives: surfaced recall only.
        summary["n_check"] = n_check
        summary["check_surfaced_recall"] = _rate(check_surfaced, n_check)
        summary["surfaced_recall_high_or_check"] = _rate(
            surfaced_pos + check_surfaced, n_high + n_check
        )
    return summary


def evaluate_conversations(conversations: list[dict], screener: str = "conversation") -> dict:
    """Score labelled conversations. A conversation is caught when it reaches `high` by its
    last message (the alert goes out at the first high); surfaced when it reaches high or
    check. Every message is also scored alone against the conversation's label (a high
    conversation's quiet messages are misses there: that is the point of the window)."""
    screen = SCREENERS[screener]
    n_high = n_none = caught = false_alarm = surfaced_pos = surfaced_false = 0
    misses = []
    for conv in conversations:
        texts = conv["messages"]
        outcomes = screen(texts)
        reached_high = HIGH in outcomes
        surfaced = reached_high or CHECK in outcomes
        first_high = outcomes.index(HIGH) + 1 if reached_high else None
        if conv["label"] == HIGH:
            n_high += 1
            caught += reached_high
            surfaced_pos += surfaced
        else:
            n_none += 1
            false_alarm += reached_high
            surfaced_false += surfaced
        if reached_high != (conv["label"] == HIGH):
            misses.append(
                {
                    "kind": "false_negative" if conv["label"] == HIGH else "false_positive",
                    "id": conv.get("id", ""),
                    "outcomes": outcomes,
                    "first_high_at": first_high,
                }
            )
    statements = evaluate(
        [(conv["label"], text) for conv in conversations for text in conv["messages"]], screener
    )
    return {
        "screener": screener,
        "conversation_recall_high": _rate(caught, n_high),
        "conversation_false_alarm_rate": _rate(false_alarm, n_none),
        "conversation_surfaced_recall": _rate(surfaced_pos, n_high),
        "conversation_surfaced_false_alarm_rate": _rate(surfaced_false, n_none),
        "n_high": n_high,
        "n_none": n_none,
        "message_recall_high": statements["recall_high"],
        "message_false_positive_rate": statements["false_positive_rate"],
        "message_surfaced_recall": statements["surfaced_recall"],
        "message_surfaced_false_positive_rate": statements["surfaced_false_positive_rate"],
        "note": "caught = reaches high by the last message; surfaced = high or check; the "
        "message figures score each message alone against its conversation's label",
        "misses": misses,
    }


def read_conversations(path: Path) -> list[dict]:
    """JSONL, one conversation a line: {"label": "high"|"none", "messages": [text, ...]}
    (optionally "id"). A message may also be {"text": ...}."""
    conversations = []
    try:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    conv = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CommandError(f"{path}:{lineno}: not JSON ({exc})") from None
                label = str(conv.get("label", "")).strip().lower() if isinstance(conv, dict) else ""
                messages = conv.get("messages") if isinstance(conv, dict) else None
                if label not in EVAL_LABELS:
                    raise CommandError(
                        f"{path}:{lineno}: label must be 'high' or 'none', got {label!r}"
                    )
                if not isinstance(messages, list) or not messages:
                    raise CommandError(f"{path}:{lineno}: 'messages' must be a non-empty list")
                texts = [m.get("text", "") if isinstance(m, dict) else str(m) for m in messages]
                conversations.append(
                    {"id": conv.get("id", f"line {lineno}"), "label": label, "messages": texts}
                )
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    return conversations


def read_eval_file(path: Path, split: str | None = None) -> list[tuple[str, str]]:
    """(label, text) pairs of a TSV with a header row naming `label` and `text` (other
    columns are ignored). Labels high / none, or check (the corpus). With `split`, only the
    rows whose `split` column is that (ethics/corpus/crisis_corpus.tsv)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            if not reader.fieldnames or not {"label", "text"} <= set(reader.fieldnames):
                raise CommandError(f"{path}: need a header row with 'label' and 'text' columns")
            if split and "split" not in reader.fieldnames:
                raise CommandError(f"{path}: --split needs a 'split' column")
            rows = []
            for lineno, row in enumerate(reader, 2):
                label = (row["label"] or "").strip().lower()
                if label not in TSV_LABELS:
                    raise CommandError(
                        f"{path}:{lineno}: label must be 'high' or 'none' (or 'check'), "
                        f"got {label!r}"
                    )
                if split and row["split"] != split:
                    continue
                rows.append((label, row["text"] or ""))
            return rows
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc


class Command(BaseCommand):
    help = (
        "Screen text for suicide / self-harm risk. Without options: one text per line on "
        "stdin, one JSON result per line. --eval FILE.tsv: recall / false-positive rate "
        "on a labelled set (columns label, text; labels high/none)."
    )

    # `call_command("crisis_screen", stdin=io.StringIO("..."))` passes any iterable of lines
    # (Django only knows stdout/stderr, so stdin is declared as a stealth option).
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument(
            "--eval",
            metavar="FILE",
            dest="eval_file",
            help="labelled TSV (header: label, text) or JSONL conversations "
            '({"label", "messages": [...]}) to evaluate instead of screening',
        )
        parser.add_argument(
            "--input",
            metavar="FILE",
            dest="input_file",
            help="read texts from FILE (one per line) instead of stdin",
        )
        parser.add_argument(
            "--screener",
            choices=sorted(SCREENERS),
            default="conversation",
            help="eval mode: 'conversation' (the window, default) or 'message' (each text "
            "alone), both with the learned score; 'rules' and 'rules-message' the same with "
            "the rules alone (before issue 12 point 2; 'rules-message' is the screen before "
            "issue 12)",
        )
        parser.add_argument(
            "--split",
            metavar="NAME",
            help="eval mode, TSV with a 'split' column (ethics/corpus/): only rows of this "
            "split (train, validation, test)",
        )
        parser.add_argument(
            "--explain",
            action="store_true",
            help="screen mode: also print the matches the rules ignored",
        )

    def handle(
        self,
        *args,
        eval_file=None,
        input_file=None,
        explain=False,
        stdin=None,
        screener="message",
        split=None,
        **options,
    ):
        if eval_file:
            path = Path(eval_file)
            if path.suffix == ".jsonl":
                summary = evaluate_conversations(read_conversations(path), screener)
            else:
                summary = evaluate(read_eval_file(path, split), screener)
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        if input_file:
            try:
                with open(input_file, encoding="utf-8") as f:
                    self._screen(f, explain)
            except OSError as exc:
                raise CommandError(f"cannot read {input_file}: {exc}") from exc
        else:
            self._screen(stdin if stdin is not None else sys.stdin, explain)

    def _screen(self, lines, explain: bool) -> None:
        for line in lines:
            text = line.rstrip("\r\n")
            result = crisis_detect(text).as_dict(explain=explain)
            self.stdout.write(json.dumps(result, ensure_ascii=False))
