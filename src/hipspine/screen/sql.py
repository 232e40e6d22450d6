"""The screening logic as SQL, written once and rendered for DuckDB or Spark SQL.

Each engine loads the export into two tables with the same columns:
`facts_raw(patient_id, resource_type, resource_id, day, status, system, code, code_norm,
display, value_num)` (one row per coding) and `texts_raw(patient_id, resource_type,
resource_id, day, status, text)`, plus the small tables `screen_codes` and
`category_signals`. Everything after that is the SQL below; only a handful of functions
differ between the two dialects, and they are listed in `Dialect`.
"""

# ruff: noqa: S608  (SQL is assembled from the packaged rules and quoted literals, never from user text)

from __future__ import annotations

from dataclasses import dataclass

from hipspine.screen.rules import Category, Rule, ScreenRules


@dataclass(frozen=True)
class Dialect:
    name: str
    days_between: str      # days from {a} to {b}
    join_sorted: str       # distinct values of {x}, sorted, the first {n} joined by ' | '
    regex_match: str       # {x} matches the pattern {p}
    first_element: str     # first element of the array {x}
    explode: str           # set-returning function: one row per element of an array
    transform: str         # apply {fn} (a lambda over {var}) to every element of {x}
    lambda_: str           # lambda syntax over {var} returning {body}
    base64_text: str       # decode base64 {x} to UTF-8 text, NULL when invalid
    to_day: str            # 'YYYY-MM-DD...' string {x} to DATE, NULL when invalid


DUCKDB = Dialect(
    name="duckdb",
    days_between="datediff('day', {a}, {b})",
    join_sorted="array_to_string(list_slice(list_sort(list_distinct(list({x}))), 1, {n}), ' | ')",
    regex_match="regexp_matches({x}, {p})",
    first_element="{x}[1]",
    explode="unnest",
    transform="list_transform({x}, {fn})",
    lambda_="lambda {var}: {body}",
    base64_text="try(decode(from_base64({x})))",
    to_day="try_cast(substr({x}, 1, 10) AS DATE)",
)

SPARK = Dialect(
    name="spark",
    days_between="datediff({b}, {a})",
    join_sorted="array_join(slice(array_sort(collect_set({x})), 1, {n}), ' | ')",
    regex_match="({x} RLIKE {p})",
    first_element="{x}[0]",
    explode="explode",
    transform="transform({x}, {fn})",
    lambda_="{var} -> {body}",
    base64_text="decode(unbase64({x}), 'UTF-8')",
    to_day="to_date(substr({x}, 1, 10))",
)

DIALECTS = {"duckdb": DUCKDB, "spark": SPARK}


def literal(text: str) -> str:
    """A SQL string literal (Spark runs with escapedStringLiterals, so backslashes are kept)."""
    return "'" + text.replace("'", "''") + "'"


# --- extraction: one SELECT per resource type, over a view raw_<Type> -------------------

_PATIENT = "regexp_replace(subject.reference, '^(.*/|urn:uuid:)', '')"

# resource type -> (date expression, status expression, list of coding-array expressions)
EXTRACT: dict[str, tuple[str, str, list[str]]] = {
    "Condition": ("coalesce(onsetDateTime, onsetPeriod.start, recordedDate)",
                  "{first}(verificationStatus.coding).code", ["code.coding"]),
    "Procedure": ("coalesce(performedDateTime, performedPeriod.start)", "status",
                  ["code.coding"]),
    "Observation": ("coalesce(effectiveDateTime, effectivePeriod.start, issued)", "status",
                    ["code.coding"]),
    "DiagnosticReport": ("coalesce(effectiveDateTime, effectivePeriod.start, issued)", "status",
                         ["code.coding"]),
    # type and serviceType say what kind of visit it was (a specialist clinic, when the
    # export codes it so); reasonCode why. Encounter has no specialty of its own in R4 (it
    # sits on PractitionerRole, which exports link only by reference), so none is read.
    "Encounter": ("period.start", "status",
                  ["{flatten_reason}", "{flatten_type}", "serviceType.coding"]),
}


def extract_codings_sql(resource_type: str, d: Dialect) -> list[str]:
    """SELECTs giving facts_raw rows (one per coding) from view raw_<resource_type>."""
    date_expr, status_expr, arrays = EXTRACT[resource_type]
    first = d.first_element.replace("{x}", "verificationStatus.coding")
    status = status_expr.replace("{first}(verificationStatus.coding)", first)

    def flatten(field: str) -> str:
        fn = d.lambda_.format(var="cc", body="cc.coding")
        return f"flatten({d.transform.format(x=field, fn=fn)})"

    value = "valueQuantity.value" if resource_type == "Observation" else "CAST(NULL AS DOUBLE)"
    out = []
    for array in arrays:
        array = array.replace("{flatten_reason}", flatten("reasonCode")).replace(
            "{flatten_type}", flatten("type"))
        out.append(
            f"SELECT {_PATIENT} AS patient_id, '{resource_type}' AS resource_type, "
            f"id AS resource_id, {d.to_day.format(x=date_expr)} AS day, "
            f"CAST({status} AS STRING) AS status, c.system AS system, c.code AS code, "
            f"upper(replace(c.code, '.', '')) AS code_norm, c.display AS display, "
            f"CAST({value} AS DOUBLE) AS value_num "
            f"FROM (SELECT *, {d.explode}({array}) AS c FROM raw_{resource_type} "
            f"WHERE resourceType = '{resource_type}') _u WHERE c.code IS NOT NULL")
    return out


# resource type -> (date expression, plain-text field or None, attachment array expression)
TEXTS: dict[str, tuple[str, str | None, str]] = {
    "DiagnosticReport": (EXTRACT["DiagnosticReport"][0], "conclusion", "presentedForm"),
    "DocumentReference": ("coalesce(date, context.period.start)", None, "{attachments}"),
}


def extract_texts_sql(resource_type: str, d: Dialect) -> str:
    """SELECT giving texts_raw rows: report conclusions and text/plain attachments."""
    date_expr, plain, attachments = TEXTS[resource_type]
    if "{attachments}" in attachments:
        fn = d.lambda_.format(var="ct", body="ct.attachment")
        attachments = d.transform.format(x="content", fn=fn)
    form = d.first_element.format(x=attachments)
    decoded = d.base64_text.format(x=f"{form}.data")
    attached = f"CASE WHEN {form}.contentType LIKE 'text/plain%' THEN {decoded} END"
    text = f"concat_ws(' ', {plain}, {attached})" if plain else attached
    return (
        f"SELECT {_PATIENT} AS patient_id, '{resource_type}' AS resource_type, "
        f"id AS resource_id, {d.to_day.format(x=date_expr)} AS day, status, {text} AS text "
        f"FROM raw_{resource_type} WHERE resourceType = '{resource_type}'")


# --- signals, groups and categories ------------------------------------------------------

def facts_sql(rules: ScreenRules, d: Dialect) -> str:
    """facts(patient_id, signal, day, item): each resource that marks a signal."""
    statuses = ", ".join(literal(s) for s in rules.excluded_statuses)
    parts = [
        "SELECT f.patient_id, c.signal, f.day, "
        "concat(coalesce(CAST(f.day AS STRING), 'undated'), ' ', f.resource_type, ' ', "
        "f.code, ' ', coalesce(f.display, c.display), "
        "CASE WHEN f.value_num IS NULL THEN '' ELSE concat(' = ', CAST(f.value_num AS STRING)) "
        "END) AS item "
        "FROM facts_raw f JOIN screen_codes c ON f.system = c.system AND f.code_norm = c.code "
        f"WHERE (f.status IS NULL OR f.status NOT IN ({statuses})) "
        "AND (c.min_value IS NULL OR f.value_num >= c.min_value)"
    ]
    for signal in rules.signals:
        if signal.report_phrase is None:
            continue
        phrase = literal(signal.report_phrase)
        keep = d.regex_match.format(x="t.text", p=phrase)
        if signal.report_denial:
            denial = literal(signal.report_denial)
            keep += " AND NOT " + d.regex_match.format(x="t.text", p=denial)
        parts.append(
            f"SELECT t.patient_id, '{signal.id}' AS signal, t.day, "
            f"concat(coalesce(CAST(t.day AS STRING), 'undated'), ' ', t.resource_type, ' \"', "
            f"regexp_extract(t.text, {phrase}, 0), '\"') AS item "
            f"FROM texts_raw t WHERE t.text IS NOT NULL "
            f"AND (t.status IS NULL OR t.status NOT IN ({statuses})) AND {keep}")
    return "\nUNION ALL\n".join(parts)


def _in(signals: list[str]) -> str:
    return ", ".join(literal(s) for s in signals)


def _group_names(category: Category) -> list[str]:
    names: list[str] = []
    for rule in category.rules:
        names += [*rule.all_of, *rule.none_of, *rule.never_same_day]
        if rule.after:
            names += [rule.after.first, rule.after.then]
    return list(dict.fromkeys(names))


def patient_groups_sql(rules: ScreenRules) -> str:
    """patient_groups: per patient, has_/first_/last_ of every group the categories use."""
    used = list(dict.fromkeys(g for c in rules.categories for g in _group_names(c)))
    cols = []
    for g in used:
        members = _in(rules.groups[g])
        cols += [f"MAX(CASE WHEN signal IN ({members}) THEN 1 ELSE 0 END) AS has_{g}",
                 f"MIN(CASE WHEN signal IN ({members}) THEN day END) AS first_{g}",
                 f"MAX(CASE WHEN signal IN ({members}) THEN day END) AS last_{g}"]
    return f"SELECT patient_id, {', '.join(cols)} FROM facts GROUP BY patient_id"


def same_day_sql(rules: ScreenRules) -> dict[str, str]:
    """One table per never_same_day pair: patients with a day carrying both groups."""
    out: dict[str, str] = {}
    for category in rules.categories:
        for rule in category.rules:
            if len(rule.never_same_day) != 2:
                continue
            a, b = rule.never_same_day
            name = f"same_day_{a}_{b}"
            out[name] = (
                f"SELECT patient_id FROM (SELECT patient_id, day, "
                f"MAX(CASE WHEN signal IN ({_in(rules.groups[a])}) THEN 1 ELSE 0 END) AS a, "
                f"MAX(CASE WHEN signal IN ({_in(rules.groups[b])}) THEN 1 ELSE 0 END) AS b "
                f"FROM facts WHERE day IS NOT NULL GROUP BY patient_id, day) x "
                f"WHERE a = 1 AND b = 1 GROUP BY patient_id")
    return out


def _rule_sql(category: Category, rule: Rule, d: Dialect) -> str:
    where = [f"pg.has_{g} = 1" for g in rule.all_of]
    where += [f"pg.has_{g} = 0" for g in rule.none_of]
    if rule.after:
        a = rule.after
        gap = d.days_between.format(a=f"pg.first_{a.first}", b=f"pg.last_{a.then}")
        where.append(f"{gap} >= {a.min_days}")
    joins = ""
    if len(rule.never_same_day) == 2:
        x, y = rule.never_same_day
        joins = f" LEFT JOIN same_day_{x}_{y} sd ON sd.patient_id = pg.patient_id"
        where.append("sd.patient_id IS NULL")
    return (f"SELECT pg.patient_id, '{category.id}' AS category, '{rule.id}' AS rule, "
            f"{literal(rule.description)} AS rule_description FROM patient_groups pg{joins} "
            f"WHERE {' AND '.join(where) or 'TRUE'}")


def hits_sql(rules: ScreenRules, d: Dialect) -> str:
    """hits(patient_id, category, rule, rule_description): one row per rule that lists a
    patient, so a patient under two categories (or two rules of one) has a row for each."""
    parts = [_rule_sql(c, r, d) for c in rules.categories for r in c.rules]
    return ("SELECT DISTINCT patient_id, category, rule, rule_description FROM ("
            + " UNION ALL ".join(parts) + ") u")


def category_signal_rows(rules: ScreenRules) -> list[tuple[str, str]]:
    """(category, signal) pairs whose records are shown as the category's evidence:
    the groups a category requires to be present (never the ones it requires absent)."""
    rows: list[tuple[str, str]] = []
    for c in rules.categories:
        groups: list[str] = []
        for rule in c.rules:
            groups += rule.all_of
            if rule.after:
                groups += [rule.after.first, rule.after.then]
        for g in dict.fromkeys(groups):
            rows += [(c.id, s) for s in rules.groups[g]]
    return sorted(set(rows))


def worklist_sql(d: Dialect, max_items: int = 25) -> str:
    """worklist(patient_id, category, evidence, first_seen, last_seen, rule,
    rule_description), one row per hit; evidence lists the first `max_items` records by
    date and says how many more there are."""
    more = (f"CASE WHEN count(DISTINCT f.item) > {max_items} THEN concat(' | (+', "
            f"CAST(count(DISTINCT f.item) - {max_items} AS STRING), ' more)') ELSE '' END")
    return (
        "SELECT h.patient_id, h.category, "
        f"concat({d.join_sorted.format(x='f.item', n=max_items)}, {more}) AS evidence, "
        "CAST(MIN(f.day) AS STRING) AS first_seen, CAST(MAX(f.day) AS STRING) AS last_seen, "
        "h.rule, h.rule_description "
        "FROM hits h JOIN category_signals cs ON cs.category = h.category "
        "JOIN facts f ON f.patient_id = h.patient_id AND f.signal = cs.signal "
        "GROUP BY h.patient_id, h.category, h.rule, h.rule_description")
