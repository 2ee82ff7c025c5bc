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
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ethics.detector import HIGH, NONE, crisis_detect

EVAL_LABELS = {HIGH, NONE}


def evaluate(rows: list[tuple[str, str]]) -> dict:
    """Score (label, text) pairs. A prediction of `high` is positive; `low` and `none` are
    negative, so a `high` text detected as `low` is a miss (false negative)."""
    n_high = n_none = true_pos = false_pos = 0
    misses = []
    for label, text in rows:
        detection = crisis_detect(text)
        predicted_high = detection.risk == HIGH
        if label == HIGH:
            n_high += 1
            true_pos += predicted_high
            if not predicted_high:
                misses.append(
                    {
                        "kind": "false_negative",
                        "label": label,
                        "risk": detection.risk,
                        "text": text,
                        "reasons": detection.reasons,
                        "ignored": detection.ignored,
                    }
                )
        else:
            n_none += 1
            false_pos += predicted_high
            if predicted_high:
                misses.append(
                    {
                        "kind": "false_positive",
                        "label": label,
                        "risk": detection.risk,
                        "text": text,
                        "reasons": detection.reasons,
                    }
                )
    return {
        "recall_high": round(true_pos / n_high, 4) if n_high else None,
        "false_positive_rate": round(false_pos / n_none, 4) if n_none else None,
        "n_high": n_high,
        "n_none": n_none,
        "note": "risk 'low' counts as not-high (negative) in this evaluation",
        "misses": misses,
    }


def read_eval_file(path: Path) -> list[tuple[str, str]]:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            if not reader.fieldnames or not {"label", "text"} <= set(reader.fieldnames):
                raise CommandError(f"{path}: need a header row with 'label' and 'text' columns")
            rows = []
            for lineno, row in enumerate(reader, 2):
                label = (row["label"] or "").strip().lower()
                if label not in EVAL_LABELS:
                    raise CommandError(
                        f"{path}:{lineno}: label must be 'high' or 'none', got {label!r}"
                    )
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
            metavar="FILE.tsv",
            dest="eval_file",
            help="labelled TSV (header: label, text) to evaluate instead of screening",
        )
        parser.add_argument(
            "--input",
            metavar="FILE",
            dest="input_file",
            help="read texts from FILE (one per line) instead of stdin",
        )
        parser.add_argument(
            "--explain",
            action="store_true",
            help="screen mode: also print the matches the rules ignored",
        )

    def handle(self, *args, eval_file=None, input_file=None, explain=False, stdin=None, **options):
        if eval_file:
            summary = evaluate(read_eval_file(Path(eval_file)))
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
