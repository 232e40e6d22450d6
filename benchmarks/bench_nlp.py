"""Reading clinic notes and radiology reports: cost per kilobyte as the text grows.

    python benchmarks/bench_nlp.py [--quick]

For each text shape the same unit is repeated to 10 KB, 100 KB and 1 MB and read by the
notes reader (`read_exam_findings`: examination findings and red-flag alarms) and the report
reader (`read_report`: imaging fields, alarms and lesions). Printed: CPU time per KB at each
size and the ratio of the per-KB cost at 1 MB to that at 10 KB, the baseline being the same
shape at 10 KB in the same run. Reading is linear when the ratio stays near 1; the target is
within 2x for every shape, and the exit status is non-zero when one misses it.

Shapes: a normal multi-sentence clinic note and a normal report; the security probe's one
long sentence with no full stop (it used to cost time growing with the square of its length:
15 s for 656 KB); one sentence of commas; runs of spinal levels ("L4 L4 L5 ...", which used
to take exponential time in the level-heading pattern); findings padded with long runs of
spaces (quadratic in the level and clause-break patterns); one repeated character with no
space at all; many sentence ends ("No. No. ..."); dense findings (many mentions per
sentence); many tiny hedged sentences ("? fracture"). `--quick` reads four of them. CPU time
(`time.process_time`, best of several rounds at the small sizes) keeps the figures steady on
a shared machine. The last line reads one case with 4 MB of notes through `enrich_case`,
which reads the first 1 MiB (`TEXT_LIMIT_PER_CASE`) and reports the rest as truncated.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from hipspine.models import parse_case
from hipspine.nlp import enrich_case, load_nlp_knowledge, read_report
from hipspine.nlp.knowledge import NlpKnowledge
from hipspine.nlp.limits import TEXT_LIMIT_PER_CASE
from hipspine.nlp.notes import read_exam_findings

TARGET = 2.0
KB = 1024
SIZES_KB = (10, 100, 1024)
NOTE = ("Seen in clinic today with right groin pain for six months, worse on walking. "
        "FABER positive on the right, FADIR negative. SLR negative bilaterally. No fever, "
        "no weight loss, no night pain. Denies saddle anaesthesia or bladder dysfunction. ")
REPORT = ("MRI lumbar spine and AP pelvis.\n"
          "Findings: moderate joint space narrowing of the right hip with osteophytes.\n"
          "L4-5: moderate central canal stenosis; mild left foraminal narrowing.\n"
          "Grade 1 anterolisthesis of L4 on L5. No fracture. No suspicious bone lesion.\n")
SHAPES: dict[str, str] = {
    "normal note": NOTE,
    "normal report": REPORT,
    "one long sentence": ("pain in the groin and fever and weight loss and cancer and "
                          "fracture and FABER positive and "),
    "one sentence of commas": "FABER positive, fever, L4-5 stenosis, night pain, ",
    "runs of levels": "L4 L4 L5 ",
    "runs of spaces": "no fever at L4" + " " * 500 + "and there is severe stenosis",
    "one character": "a",
    "many sentence ends": "No. ",
    "dense findings": "slip L4 on L5 grade 2 with severe stenosis L4-5 ",
    "tiny hedged sentences": "? fracture ",
}
QUICK = ("normal note", "one long sentence", "runs of levels", "runs of spaces")
Reader = Callable[[str, NlpKnowledge], object]
READERS: dict[str, Reader] = {
    "notes": lambda text, kb: read_exam_findings([text], kb),
    "reports": lambda text, kb: read_report(text, kb),
}


def text_of(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def cpu_seconds(fn: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="four shapes (about a minute)")
    args = parser.parse_args()
    kb = load_nlp_knowledge()
    read_report(REPORT, kb)  # warm caches (compiled patterns, the knowledge version)
    shapes = {k: v for k, v in SHAPES.items() if not args.quick or k in QUICK}
    print(f"CPU ms per KB read; ratio = per-KB cost at {SIZES_KB[-1] // KB} MB / at "
          f"{SIZES_KB[0]} KB (target within {TARGET:.0f}x)")
    print(f"{'shape':<24}{'reader':<9}" + "".join(f"{f'{s} KB':>10}" for s in SIZES_KB)
          + f"{'ratio':>8}")
    failed: list[str] = []
    for name, unit in shapes.items():
        for reader_name, reader in READERS.items():
            per_kb = []
            for size_kb in SIZES_KB:
                text = text_of(unit, size_kb * KB)
                rounds = 5 if size_kb <= 10 else 2 if size_kb <= 100 else 1
                seconds = cpu_seconds(lambda: reader(text, kb), rounds)  # noqa: B023
                per_kb.append(seconds * 1000 / size_kb)
            ratio = per_kb[-1] / per_kb[0] if per_kb[0] > 0 else float("inf")
            mark = "" if ratio <= TARGET else "  MISSED"
            if mark:
                failed.append(f"{name} ({reader_name})")
            print(f"{name:<24}{reader_name:<9}" + "".join(f"{c:>10.2f}" for c in per_kb)
                  + f"{ratio:>7.2f}x{mark}", flush=True)
    if not args.quick:
        notes = [text_of(NOTE, KB * KB) for _ in range(4)]
        case = parse_case({"format": "hipspine.case/1", "notes": notes})
        t0 = time.process_time()
        enriched = enrich_case(case, kb)
        seconds = time.process_time() - t0
        print(f"enrich_case, 4 MB of notes: {seconds:.1f} s CPU, read {len(enriched.texts_read)} "
              f"of 4 texts ({TEXT_LIMIT_PER_CASE:,} characters), {len(enriched.truncated)} "
              f"reported truncated")
    verdict = "met" if not failed else "MISSED for " + ", ".join(failed)
    print(f"target per-KB cost at 1 MB within {TARGET:.0f}x of that at 10 KB: {verdict}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
