"""Words, not codes, for the pages: Jinja filters and globals (registered in `templating`).

The API and the stored documents keep the codes (citekeys, field paths, instrument ids,
`below_knee`); only the HTML turns them into what a clinician reads. Every function here
takes what the template has and never raises: an unknown code is shown tidied, not hidden.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

from markupsafe import Markup, escape

_SECTIONS = ("symptoms", "exam", "history", "imaging", "tests", "proms")
_PATH_RE = r"\b(?:" + "|".join(_SECTIONS) + r")(?:\.[a-z][a-z0-9_]*(?:\[\d+\])?)+"
_IDENT = re.compile(r"(doi:\s*(10\.\S+?)|PMID\s*(\d+)|(PMC\d+)|(https?://\S+?))(?=[,;)\s]|$)")
_CITEKEY = re.compile(r"^[a-z][a-z0-9_]*$")
_CODES = re.compile(r"\[(?P<key>[a-z][a-z0-9_]*)\]|" + _PATH_RE)
_CHANCE_PREFIX = re.compile(r"^Chance the verdict changes \d+%;\s*")
POLICY_NOTE_PREFIX = "not counted: "


# ------------------------------------------------------------------------ knowledge look-ups

@functools.cache
def _references() -> dict[str, Any]:
    try:
        from hipspine.kb import load_references

        return dict(load_references())
    except Exception:  # a broken knowledge base must not break the page
        return {}


@functools.cache
def _instrument_names() -> dict[str, str]:
    """Names of the clinical instruments and of the PROMs, by id."""
    from hipspine.instruments.knowledge import load_instrument_knowledge
    from hipspine.proms import packaged_instruments

    names = {i.id: i.name for i in packaged_instruments().values()}
    names.update({d.id: d.name for d in load_instrument_knowledge().instruments})
    return names


_TIMEPOINT = re.compile(r"(\d+)([wm])")


def timepoint_words(code: Any) -> str:
    """A registry timepoint in words: `6w` -> "6 weeks", `12m` -> "12 months"."""
    text = str(code or "")
    m = _TIMEPOINT.fullmatch(text)
    if m is None:
        return text or "not at a study timepoint"
    unit = {"w": "week", "m": "month"}[m.group(2)]
    return f"{m.group(1)} {unit}{'' if m.group(1) == '1' else 's'}"


# ------------------------------------------------------------------------------- filters

def field_label(path: Any) -> str:
    """`symptoms.relief_sitting` -> "Relief sitting"; `imaging.hip_oa.kellgren_lawrence` ->
    "Kellgren-Lawrence grade" (the intake form's labels)."""
    from hipspine.web.intake import label_for

    text = str(path)
    last = re.sub(r"\[\d+\]$", "", text.rsplit(".", 1)[-1])
    return label_for(last)


def humanize(text: Any) -> Markup:
    """Free text for reading: every case field path in it becomes the field's label and every
    bracketed citekey (`[nice_ng226]`) the reference with its link. The text is escaped."""
    if text is None:
        return Markup("")
    raw = str(text)
    parts: list[Markup | str] = []
    pos = 0
    for m in _CODES.finditer(raw):
        parts.append(raw[pos:m.start()])
        if m.group("key") is not None:
            key = m.group("key")
            parts.append(Markup("({})").format(cite(key)) if key in _references()
                         else m.group(0))
        else:
            parts.append(field_label(m.group(0)))
        pos = m.end()
    parts.append(raw[pos:])
    return Markup("").join(escape(p) for p in parts)


def value_words(value: Any) -> str:
    """A finding's value in words: True -> "yes", None -> "not known", `below_knee` ->
    "below knee", 5.0 -> "5"."""
    if value is None:
        return "not known"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(value_words(v) for v in value) or "none"
    text = str(value)
    if text in ("True", "False", "None"):
        return value_words({"True": True, "False": False, "None": None}[text])
    return text.replace("_", " ")


def instrument_name(instrument_id: Any) -> str:
    """The instrument's name from its knowledge file; an unknown id tidied."""
    text = str(instrument_id)
    return _instrument_names().get(text) or text.replace("_", " ")


def _link(href: str, text: str) -> Markup:
    return Markup('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>').format(
        href, text)


def _ref_markup(ref: Any) -> Markup:
    first = ref.authors.split(",")[0].split(" ")[0]
    if first.startswith("("):
        first = "Anon."
    where = f", {ref.journal}" if ref.journal else ""
    text = escape(f"{first} {ref.year}{where}")
    if ref.doi:
        ident = _link(f"https://doi.org/{ref.doi}", f"doi:{ref.doi}")
    elif ref.pmid:
        ident = _link(f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/", f"PMID {ref.pmid}")
    elif ref.pmcid:
        ident = _link(f"https://www.ncbi.nlm.nih.gov/pmc/articles/{ref.pmcid}/", ref.pmcid)
    else:
        ident = _link(ref.url, "source")
    title = escape(ref.title)
    return Markup('<cite class="ref" title="{}">{}, {}</cite>').format(title, text, ident)


def _linkify(label: str) -> Markup:
    """A printed citation label ("Suri 2010, JAMA, doi:10...") with its identifier linked."""
    out: list[Markup | str] = []
    pos = 0
    for m in _IDENT.finditer(label):
        out.append(escape(label[pos:m.start()]))
        doi, pmid, pmcid, url = m.group(2), m.group(3), m.group(4), m.group(5)
        if doi:
            out.append(_link(f"https://doi.org/{doi}", f"doi:{doi}"))
        elif pmid:
            out.append(_link(f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/", f"PMID {pmid}"))
        elif pmcid:
            out.append(_link(f"https://www.ncbi.nlm.nih.gov/pmc/articles/{pmcid}/", pmcid))
        else:
            out.append(_link(url, "source"))
        pos = m.end()
    out.append(escape(label[pos:]))
    return Markup('<cite class="ref">{}</cite>').format(Markup("").join(out))


def cite(value: Any) -> Markup:
    """A citation for reading: a citekey (`nice_ng226`) or a list of them becomes author,
    year, journal and a DOI/PMID link; an already printed label gets its identifier linked."""
    if value is None or value == "":
        return Markup("")
    if isinstance(value, (list, tuple)):
        return Markup("; ").join(cite(v) for v in value if v)
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    refs = _references()
    if _CITEKEY.match(text):
        ref = refs.get(text)
        return _ref_markup(ref) if ref is not None else Markup(
            '<cite class="ref">{}</cite>').format(text.replace("_", " "))
    return _linkify(text)


def not_counted_reason(contribution: Any, policy: Any = None) -> str:
    """Why the engine showed a contribution but did not count it, in words."""
    note = str(_get(contribution, "note") or "")
    if note.startswith(POLICY_NOTE_PREFIX):
        return note[len(POLICY_NOTE_PREFIX):].replace("design_choice", "design-choice")
    group = re.match(r"counted in group '[^']*' \((.*)\): only the strongest applies$", note)
    if group:
        return f"a stronger finding of the same kind counts instead ({group.group(1)})"
    if note:
        return note
    if not _get(contribution, "verified", True):
        return f"unverified figure, below the evidence policy '{policy or 'verified'}'"
    return "left out by the engine"


def next_test_reason(why: Any) -> Markup:
    """A next test's reason without the "Chance the verdict changes N%" lead (shown apart)."""
    return humanize(_CHANCE_PREFIX.sub("", str(why or "")))


def split_basis(item: Any) -> dict[str, str]:
    """"Finding (LR 14, Brown 2004, ..., doi:...)" -> finding, LR and the citation apart."""
    text = str(item)
    m = re.match(r"^(.*?) \(LR ([^,)]+)(?:, (.*))?\)$", text)
    if not m:
        return {"finding": text, "lr": "", "citation": ""}
    return {"finding": m.group(1), "lr": m.group(2), "citation": m.group(3) or ""}


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def split_next_tests(tests: Any) -> tuple[list[Any], list[Any]]:
    """(tests that could change the verdict, tests that only add information): a test the
    model gives exactly 0 % chance of changing the verdict is not a next step."""
    could: list[Any] = []
    only_info: list[Any] = []
    for t in tests or []:
        chance = _get(t, "chance_verdict_changes")
        (only_info if chance is not None and float(chance) <= 0.0 else could).append(t)
    return could, only_info


def percent(value: Any) -> str:
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return ""


def today() -> str:
    return dt.date.today().isoformat()


FILTERS = {"cite": cite, "field_label": field_label, "humanize": humanize,
           "value_words": value_words, "instrument_name": instrument_name,
           "not_counted_reason": not_counted_reason, "next_test_reason": next_test_reason,
           "split_basis": split_basis, "percent": percent, "timepoint_words": timepoint_words}
GLOBALS = {"split_next_tests": split_next_tests, "today": today}


def register(env: Any) -> None:
    """Add the filters and globals to a Jinja environment."""
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
