"""Score the assessment on published cases with their recorded truth (`hipspine eval cases`).

Agreement: the verdict names the settled source (hip, spine, both; `other` for a mimic or
another cause); where the truth is a tumour, an infection or a fracture, an urgent red flag
that leads to it also counts. A wrong call is a definite verdict that disagrees; the rest are
`indeterminate`. Beside the engine it scores an imaging-only reading: the same engine given
only each case's imaging, the organ-by-organ shortcut the engine has to beat.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hipspine.assess.api import assess
from hipspine.assess.knowledge import AssessmentKnowledge
from hipspine.models.assessment import Assessment
from hipspine.models.case import Case
from hipspine.models.eval_case import EvalCase

RED_FLAG_FOR_CATEGORY = {"tumour": "malignancy", "infection": "infection",
                         "fracture": "fracture"}
"""Which red-flag rule (rules.yaml) leads to a truth of each category."""

VERDICTS = ("hip", "spine", "both", "other", "indeterminate")


@dataclass(frozen=True)
class Scored:
    name: str
    split: str
    truth: str
    established_by: str
    verdict: str
    outcome: str  # "agree" | "wrong" | "indeterminate"
    by_red_flag: bool
    diagnosis: str | None
    certainty: str | None
    imaging_only_verdict: str
    imaging_only_outcome: str


def outcome_of(assessment: Assessment, ec: EvalCase) -> tuple[str, bool]:
    """("agree" | "wrong" | "indeterminate", whether a red flag made it agree)."""
    if assessment.verdict == ec.truth.source:
        return "agree", False
    flag = RED_FLAG_FOR_CATEGORY.get(ec.truth.category or "")
    if flag and any(f.id == flag for f in assessment.red_flags):
        return "agree", True
    if assessment.verdict == "indeterminate":
        return "indeterminate", False
    return "wrong", False


def imaging_only(case: Case) -> Case:
    """The case as an organ-by-organ imaging reading sees it: its imaging and nothing else."""
    return Case(format=case.format, id=case.id, imaging=case.imaging)


def score_cases(cases: Iterable[EvalCase], kb: AssessmentKnowledge | None = None,
                evidence: str | None = None) -> list[Scored]:
    out = []
    for ec in cases:
        full = assess(ec.case, kb, evidence=evidence)
        verdict_outcome, by_flag = outcome_of(full, ec)
        img = assess(imaging_only(ec.case), kb, evidence=evidence)
        img_outcome, _ = outcome_of(img, ec)
        out.append(Scored(ec.name, ec.truth.split or "unsplit", ec.truth.source,
                          ec.truth.established_by, full.verdict, verdict_outcome, by_flag,
                          full.diagnosis, full.certainty.level if full.certainty else None,
                          img.verdict, img_outcome))
    return out


@dataclass
class Summary:
    n: int = 0
    agree: int = 0
    wrong: int = 0
    indeterminate: int = 0
    imaging_only_agree: int = 0
    imaging_only_wrong: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    def rates(self) -> dict[str, float]:
        n = self.n or 1
        return {"agreement": self.agree / n, "wrong": self.wrong / n,
                "indeterminate": self.indeterminate / n,
                "imaging_only_agreement": self.imaging_only_agree / n,
                "imaging_only_wrong": self.imaging_only_wrong / n}


def summarise(rows: Iterable[Scored]) -> Summary:
    s = Summary()
    for r in rows:
        s.n += 1
        s.agree += r.outcome == "agree"
        s.wrong += r.outcome == "wrong"
        s.indeterminate += r.outcome == "indeterminate"
        s.imaging_only_agree += r.imaging_only_outcome == "agree"
        s.imaging_only_wrong += r.imaging_only_outcome == "wrong"
        s.confusion[(r.truth, r.verdict)] += 1
    return s


def breakdown(rows: list[Scored], key: Callable[[Scored], str]) -> dict[str, Summary]:
    groups: dict[str, list[Scored]] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    return {k: summarise(v) for k, v in sorted(groups.items())}


def changed_since(rows: list[Scored], last: dict[str, str]) -> list[tuple[str, str, str]]:
    """(case, verdict then, verdict now) for every case whose verdict changed."""
    return [(r.name, last[r.name], r.verdict) for r in rows
            if r.name in last and last[r.name] != r.verdict]


def report(rows: list[Scored], last: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything `hipspine eval cases` prints, as plain data."""
    def block(s: Summary) -> dict[str, Any]:
        return {"n": s.n, "agree": s.agree, "wrong": s.wrong,
                "indeterminate": s.indeterminate, "imaging_only_agree": s.imaging_only_agree,
                "imaging_only_wrong": s.imaging_only_wrong,
                **{k: round(v, 4) for k, v in s.rates().items()}}
    overall = summarise(rows)
    return {
        "overall": block(overall),
        "by_split": {k: block(v) for k, v in breakdown(rows, lambda r: r.split).items()},
        "by_truth": {k: block(v) for k, v in breakdown(rows, lambda r: r.truth).items()},
        "by_established_by": {k: block(v) for k, v in
                              breakdown(rows, lambda r: r.established_by).items()},
        "confusion": {t: {v: overall.confusion[(t, v)] for v in VERDICTS}
                      for t in ("hip", "spine", "both", "other")},
        "changed": [{"case": c, "before": b, "now": n}
                    for c, b, n in changed_since(rows, last or {})],
        "cases": [r.__dict__ for r in rows],
    }


def render_text(data: dict[str, Any]) -> str:
    def line(name: str, b: dict[str, Any]) -> str:
        return (f"  {name:<26} n={b['n']:>3}  agree {b['agreement']:>6.1%}  wrong "
                f"{b['wrong']:>6.1%}  indeterminate {b['indeterminate']:>6.1%}   "
                f"| imaging only: agree {b['imaging_only_agreement']:>6.1%}  wrong "
                f"{b['imaging_only_wrong']:>6.1%}")
    out = ["Published-case benchmark (engine vs an imaging-only reading)",
           line("all", data["overall"]), "By split:"]
    out += [line(k, v) for k, v in data["by_split"].items()]
    out.append("By truth:")
    out += [line(k, v) for k, v in data["by_truth"].items()]
    out.append("By how the truth was established:")
    out += [line(k, v) for k, v in data["by_established_by"].items()]
    out.append("Confusion (rows: truth; columns: verdict):")
    out.append("  " + " " * 8 + "".join(f"{v:>15}" for v in VERDICTS))
    for t, cols in data["confusion"].items():
        out.append(f"  {t:<8}" + "".join(f"{cols[v]:>15}" for v in VERDICTS))
    if data["changed"]:
        out.append("Changed since the last run:")
        out += [f"  {c['case']}: {c['before']} -> {c['now']}" for c in data["changed"]]
    else:
        out.append("Changed since the last run: none")
    out.append("Cases not agreeing:")
    for c in data["cases"]:
        if c["outcome"] != "agree":
            out.append(f"  [{c['split']}] {c['name']}: truth {c['truth']} "
                       f"({c['established_by']}), verdict {c['verdict']} "
                       f"({c['certainty']}); {c['diagnosis'] or '-'}")
    return "\n".join(out)


WAIVER_PREFIX = "waiver:"
"""How `design_choices` names a waiver (findings.yaml `waivers`) that is a design choice."""


def without_design_choice(kb: AssessmentKnowledge, finding_id: str) -> AssessmentKnowledge:
    """`kb` with the design-choice likelihoods of one finding removed (the finding too when
    nothing published is left in it), or without one waiver ("waiver:<id>"): what the
    benchmark would say without that choice."""
    if finding_id.startswith(WAIVER_PREFIX):
        waiver = finding_id.removeprefix(WAIVER_PREFIX)
        return kb.model_copy(update={"findings": kb.findings.model_copy(update={
            "waivers": [w for w in kb.findings.waivers if w.id != waiver]})})
    findings = []
    for f in kb.findings.findings:
        if f.id != finding_id:
            findings.append(f)
            continue
        kept = [lk for lk in f.likelihoods if lk.verified != "design_choice"]
        if kept:
            findings.append(f.model_copy(update={"likelihoods": kept}))
    return kb.model_copy(update={"findings": kb.findings.model_copy(
        update={"findings": findings})})


def design_choices(kb: AssessmentKnowledge) -> list[str]:
    """Ids of the findings with at least one likelihood that is a design choice, then the
    waivers that are design choices ("waiver:<id>")."""
    return ([f.id for f in kb.findings.findings
             if any(lk.verified == "design_choice" for lk in f.likelihoods)]
            + [WAIVER_PREFIX + w.id for w in kb.findings.waivers
               if w.verified == "design_choice"])


def ablate(cases: list[EvalCase], kb: AssessmentKnowledge, base: Summary,
           evidence: str | None = None) -> list[dict[str, Any]]:
    """Per design choice: agreement and wrong calls with it (`base`, the summary of the same
    cases scored with `kb`) and without it."""
    out = []
    for finding_id in design_choices(kb):
        varied = summarise(score_cases(cases, without_design_choice(kb, finding_id),
                                       evidence))
        out.append({"finding": finding_id, "agree_with": base.agree,
                    "agree_without": varied.agree, "wrong_with": base.wrong,
                    "wrong_without": varied.wrong, "n": base.n})
    return out


def render_ablation(rows: list[dict[str, Any]]) -> str:
    out = ["Design choices (each removed in turn): agreement and wrong calls with -> without"]
    for r in rows:
        out.append(f"  {r['finding']:<44} agree {r['agree_with']:>3} -> {r['agree_without']:>3}"
                   f"   wrong {r['wrong_with']:>3} -> {r['wrong_without']:>3}   (n={r['n']})")
    return "\n".join(out)
