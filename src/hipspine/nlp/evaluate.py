"""Precision, recall and F1 of the report reader on a labelled sentence set.

    python -m hipspine.nlp.evaluate [EVAL_DIR] [--format text|json]

Each line of `EVAL_DIR/*.jsonl` is `{id, split: dev|heldout, text, expected: {hip_oa,
lumbar_stenosis, spondylolisthesis}}` in the case format's shapes (absent = not stated).
Scoring counts atomic facts (hip side, Kellgren-Lawrence grade, stenosis severity, each
stenosis level, stenosis type, listhesis level and grade): a wrong value is both a false
positive and a false negative. `dev` sentences were used while writing the rules;
`heldout` sentences were not, and are reported separately.

Red-flag alarms (`nlp/alarms.yaml`) have their own files, `EVAL_DIR/alarms/*.jsonl`: each line
`{id, texts: reports|notes, text, expected: [case field paths raised]}`, scored per field.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from hipspine.errors import InputError
from hipspine.models.validation import loads_strict
from hipspine.nlp.knowledge import NlpKnowledge, load_nlp_knowledge
from hipspine.nlp.reader import read_report

FIELDS = ("hip_oa", "lumbar_stenosis", "spondylolisthesis")
ATTRIBUTES = {
    "hip_oa": ("side", "kellgren_lawrence"),
    "lumbar_stenosis": ("severity", "levels", "type"),
    "spondylolisthesis": ("level", "grade"),
}
T = TypeVar("T")
DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[3] / "tests" / "nlp" / "eval"


class Score(BaseModel):
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_row(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4)}


@dataclass(frozen=True)
class Example:
    id: str
    split: str
    text: str
    expected: dict[str, Any]


def load_examples(eval_dir: Path = DEFAULT_EVAL_DIR) -> list[Example]:
    files = sorted(eval_dir.glob("*.jsonl")) if eval_dir.is_dir() else []
    if not files:
        raise InputError.single("eval_dir", str(eval_dir), "a folder of *.jsonl labelled sentences",
                                what="evaluation set")
    def example(row: dict[str, Any]) -> Example:
        return Example(row["id"], row.get("split", "dev"), row["text"], row.get("expected", {}))

    return [ex for path in files
            for ex in _parse(path, path.name, "a JSON object with id, text, expected", example)]


def _parse(path: Path, label: str, allowed: str, build: Callable[[dict[str, Any]], T]
           ) -> list[T]:
    """`build` applied to each JSON line of a labelled .jsonl file; a bad line (not JSON, or
    a field `build` needs missing or wrong) is an InputError naming the file and line."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(build(loads_strict(line, f"{label}:{n}")))
        except (KeyError, TypeError) as exc:
            raise InputError.single(f"{label}:{n}", line[:60], allowed,
                                    what="evaluation set") from exc
    return out


def facts(imaging: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """Atomic facts per field: {("severity", "moderate"), ("levels", "L4-L5"), ...}."""
    out: dict[str, set[tuple[str, str]]] = {f: set() for f in FIELDS}
    for f in FIELDS:
        value = imaging.get(f) or {}
        for attr in ATTRIBUTES[f]:
            v = value.get(attr)
            if v is None:
                continue
            for item in (v if isinstance(v, list) else [v]):
                out[f].add((attr, str(item)))
    return out


def evaluate(examples: Iterable[Example], kb: NlpKnowledge | None = None
             ) -> dict[str, Any]:
    """Scores per field and per attribute, overall and for each split, plus the misses."""
    kb = kb or load_nlp_knowledge()
    scores: dict[str, dict[str, Score]] = {}
    errors: list[dict[str, Any]] = []
    count: dict[str, int] = {}
    for ex in examples:
        got = read_report(ex.text, kb).imaging.model_dump(exclude_none=True)
        want_facts, got_facts = facts(ex.expected), facts(got)
        count[ex.split] = count.get(ex.split, 0) + 1
        for split in ("all", ex.split):
            table = scores.setdefault(split, {})
            for f in FIELDS:
                for key in (f, *(f"{f}.{a}" for a in ATTRIBUTES[f])):
                    table.setdefault(key, Score())
                w, g = want_facts[f], got_facts[f]
                _add(table[f], w, g)
                for a in ATTRIBUTES[f]:
                    _add(table[f"{f}.{a}"], {x for x in w if x[0] == a},
                         {x for x in g if x[0] == a})
        if any(want_facts[f] != got_facts[f] for f in FIELDS):
            errors.append({"id": ex.id, "split": ex.split, "text": ex.text,
                           "expected": ex.expected, "got": got})
    return {"sentences": count,
            "scores": {split: {k: v.as_row() for k, v in table.items()}
                       for split, table in scores.items()},
            "errors": errors}


def _add(score: Score, want: Set[Any], got: Set[Any]) -> None:
    score.tp += len(want & got)
    score.fp += len(got - want)
    score.fn += len(want - got)


@dataclass(frozen=True)
class AlarmExample:
    id: str
    texts: Literal["reports", "notes"]
    text: str
    expected: frozenset[str]


def load_alarm_examples(eval_dir: Path = DEFAULT_EVAL_DIR, folder: str = "alarms"
                        ) -> list[AlarmExample]:
    """The labelled red-flag texts under `eval_dir/alarms/` (none: an empty list); with
    `folder="lesions"`, report texts whose `expected` lists lesion kinds."""
    allowed = ("a JSON object with id, texts (reports or notes), text, expected (a list of "
               "field paths)")

    def example(row: dict[str, Any]) -> AlarmExample:
        if row["texts"] not in ("reports", "notes"):
            raise KeyError("texts")
        return AlarmExample(row["id"], row["texts"], row["text"], frozenset(row["expected"]))

    return [ex for path in sorted((eval_dir / folder).glob("*.jsonl"))
            for ex in _parse(path, f"{folder}/{path.name}", allowed, example)]


def _score_sets(examples: Iterable[AlarmExample],
                read: Callable[[AlarmExample], set[str]]) -> dict[str, Any]:
    """Precision, recall and F1 per label and over all labels, for readers that give each
    text a set of labels; and the texts read wrong."""
    table: dict[str, Score] = {}
    total = Score()
    errors: list[dict[str, Any]] = []
    n = 0
    for ex in examples:
        n += 1
        got = read(ex)
        _add(total, ex.expected, got)
        for label in ex.expected | got:
            _add(table.setdefault(label, Score()), ex.expected & {label}, got & {label})
        if got != ex.expected:
            errors.append({"id": ex.id, "texts": ex.texts, "text": ex.text,
                           "expected": sorted(ex.expected), "got": sorted(got)})
    return {"texts": n, "all": total.as_row(),
            "scores": {k: table[k].as_row() for k in sorted(table)}, "errors": errors}


def evaluate_alarms(examples: Iterable[AlarmExample], kb: NlpKnowledge | None = None
                    ) -> dict[str, Any]:
    """Precision, recall and F1 per alarm field, and the texts read wrong."""
    from hipspine.nlp.alarms import read_alarms

    knowledge = kb or load_nlp_knowledge()
    return _score_sets(examples, lambda ex: read_alarms([ex.text], knowledge, ex.texts)[0])


def evaluate_lesions(examples: Iterable[AlarmExample], kb: NlpKnowledge | None = None
                     ) -> dict[str, Any]:
    """Precision, recall and F1 per lesion kind read into `imaging.lesions`, and the texts
    read wrong."""
    from hipspine.nlp.reader import read_report

    knowledge = kb or load_nlp_knowledge()
    return _score_sets(examples, lambda ex: {
        lesion.kind for lesion in read_report(ex.text, knowledge).imaging.lesions})


def render_text(result: dict[str, Any]) -> str:
    lines = [f"sentences: {result['sentences']}"]
    for split, table in result["scores"].items():
        lines.append(f"\n[{split}]  {'field':38} {'P':>6} {'R':>6} {'F1':>6}  tp/fp/fn")
        for key, row in table.items():
            lines.append(f"  {key:44} {row['precision']:6.3f} {row['recall']:6.3f} "
                         f"{row['f1']:6.3f}  {row['tp']}/{row['fp']}/{row['fn']}")
    lines.append(f"\nsentences with any error: {len(result['errors'])}")
    alarms = result.get("alarms")
    if alarms:
        lines.append(f"\n[red-flag alarms, {alarms['texts']} texts]  {'field':25} "
                     f"{'P':>6} {'R':>6} {'F1':>6}  tp/fp/fn")
        for key, row in alarms["scores"].items():
            lines.append(f"  {key:44} {row['precision']:6.3f} {row['recall']:6.3f} "
                         f"{row['f1']:6.3f}  {row['tp']}/{row['fp']}/{row['fn']}")
        lines.append(f"\nalarm texts with any error: {len(alarms['errors'])}")
    lesions = result.get("lesions")
    if lesions:
        row = lesions["all"]
        lines.append(f"\n[lesions, {lesions['texts']} texts]  all kinds: P "
                     f"{row['precision']:.3f} R {row['recall']:.3f} F1 {row['f1']:.3f}; "
                     f"texts with any error: {len(lesions['errors'])}")
    return "\n".join(lines)


def evaluate_all(eval_dir: Path = DEFAULT_EVAL_DIR) -> dict[str, Any]:
    """Imaging fields, and the red-flag alarms when the folder has any."""
    result = evaluate(load_examples(eval_dir))
    alarm_examples = load_alarm_examples(eval_dir)
    if alarm_examples:
        result["alarms"] = evaluate_alarms(alarm_examples)
    lesion_examples = load_alarm_examples(eval_dir, "lesions")
    if lesion_examples:
        result["lesions"] = evaluate_lesions(lesion_examples)
    return result


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    fmt = "text"
    if "--format" in args:
        i = args.index("--format")
        fmt = args[i + 1] if i + 1 < len(args) else "text"
        del args[i:i + 2]
    eval_dir = Path(args[0]) if args else DEFAULT_EVAL_DIR
    result = evaluate_all(eval_dir)
    if fmt == "json":
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
