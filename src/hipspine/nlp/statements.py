"""History and symptoms stated in clinic notes (`knowledge/nlp/statements.yaml`):
"relieved by sitting", "denies numbness", "ex-smoker", "pain radiates to the groin".

The notes reader calls `sentence_statements` on each sentence it reads, sharing the
sentence's ConText triggers with the exam and red-flag readers; `stated_values` then turns
the evidence into field values. A stated finding is True, a negated one False; a hedged,
historical (unless the field is a history), someone else's, or contradicted one fills
nothing. Every pattern is searched once per sentence and every look-behind is bounded, so
reading is linear in the length of the notes.
"""

from __future__ import annotations

from collections.abc import Iterable

from hipspine.nlp.context import SentenceContext
from hipspine.nlp.evidence import EvidenceItem
from hipspine.nlp.knowledge import EXCLUDED_REACH, NlpKnowledge
from hipspine.nlp.text import Sentence

RULE_PREFIX = "statement:"


def sentence_statements(sentence: Sentence, ctx: SentenceContext, kb: NlpKnowledge,
                        source: str | None) -> list[EvidenceItem]:
    """Every history or symptom mention in one sentence of a note; `value` is
    {"value": True|False|<list item>} when the mention fills its field. Within a sentence a
    `negative` phrase outweighs the positive mentions of its clause ("ex-smoker, 30 pack-
    years"), and of two flag mentions in different clauses the later one stands ("gave up
    smoking in 2015 but now smokes 10 a day")."""
    text = sentence.text
    out: list[EvidenceItem] = []
    pain_in_clause: dict[tuple[int, int], bool] = {}
    for st, rx, negative in kb.statement_patterns:
        rule = RULE_PREFIX + st.field + (f"={st.value}" if st.value else "")
        denials = list(negative.finditer(text)) if negative is not None else []
        denied = {ctx.clause_of(d.start()) for d in denials}
        mentions: list[tuple[int, EvidenceItem]] = []
        for d in denials:
            mods = ctx.modifiers(d.start(), d.end())
            mentions.append((d.start(), EvidenceItem(
                field=st.field, text=text, negated=True, uncertain=mods.uncertain,
                historical=mods.historical, rule=rule,
                value={} if mods.uncertain else {"value": False}, source=source)))
        for m in rx.finditer(text):
            clause = ctx.clause_of(m.start())
            if clause in denied:
                continue
            mods = ctx.modifiers(m.start(), m.end())
            window = max(clause[0], m.start() - EXCLUDED_REACH)
            someone_else = bool(kb.statement_excluded.search(text, window, m.start()))
            old = mods.historical and not st.historical_counts
            value: object = not mods.negated
            if st.value is not None:  # a pain location: stated, in a clause about pain
                if clause not in pain_in_clause:
                    pain_in_clause[clause] = bool(kb.pain_words.search(text, *clause))
                value = st.value if (not mods.negated and pain_in_clause[clause]) else None
            fills = value is not None and not (mods.uncertain or old or someone_else)
            mentions.append((m.start(), EvidenceItem(
                field=st.field, text=text, negated=mods.negated, uncertain=mods.uncertain,
                historical=mods.historical, rule=rule,
                value={"value": value} if fills else {}, source=source)))
        mentions.sort(key=lambda pair: pair[0])
        if st.value is None:  # a flag: only the sentence's last filling mention fills
            filling = [i for i, (_, e) in enumerate(mentions) if e.value]
            for i in filling[:-1]:
                mentions[i] = (mentions[i][0], mentions[i][1].model_copy(update={"value": {}}))
        out += [e for _, e in mentions]
    return out


def stated_values(evidence: Iterable[EvidenceItem]) -> dict[str, object]:
    """Field path -> value from the statements' evidence: a flag stated both ways is left
    out (the notes contradict each other); pain locations in reading order, once each."""
    flags: dict[str, set[bool]] = {}
    locations: list[str] = []
    for e in evidence:
        if not e.rule.startswith(RULE_PREFIX) or not e.value:
            continue
        value = e.value["value"]
        if isinstance(value, bool):
            flags.setdefault(e.field, set()).add(value)
        elif value not in locations:
            locations.append(str(value))
    out: dict[str, object] = {f: v.pop() for f, v in flags.items() if len(v) == 1}
    if locations:
        out["symptoms.pain_locations"] = locations
    return out
