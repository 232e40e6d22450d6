"""Registry import and export as rows (CSV or JSON), all-or-nothing.

One row per record, with a `record` column saying what it is:

    record     patient | episode | treatment | prom
    patient    pseudonym, year_of_birth, sex, synthetic
    episode    pseudonym, opened_on, closed_on, setting, verdict, pathway
    treatment  pseudonym, type, target, side, level, performed_on, episode_opened_on
    prom       pseudonym, instrument, administered_on, timepoint, items | score,
               episode_opened_on   (items: a JSON array [2,3,null] or "2,3,,1")

Episodes are referred to by their patient and opening date. Pseudonyms and dates follow
the same rules as the API (`hipspine.models.registry_fields`). Every row is validated before
anything is written; the first bad rows are reported as `rows[17].instrument` and nothing is
imported. Validation and write are one transaction holding the registry's write lock
(`write_transaction`), so a killed import leaves the registry as it was, and of two
concurrent imports of the same rows the second finds the first's patients and fails with a
`ConflictError` naming each clashing row and pseudonym (CLI exit 2). The import's audit
event is written in that same transaction. Files may start with a UTF-8 byte-order mark;
JSON is read under the one JSON policy (`hipspine.models.validation.loads_strict`).
Exports carry `synthetic` on every row and say how many synthetic records they hold.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hipspine.errors import ConflictError, InputError, Problem
from hipspine.models.registry_fields import (
    clinical_date_allowed,
    has_control_character,
    parse_clinical_date,
    parse_year_of_birth,
    pseudonym_problem,
)
from hipspine.registry.audit import AuditActor, cli_actor, record_audit
from hipspine.registry.tables import (
    SETTINGS,
    SEXES,
    SIDES,
    TIMEPOINTS,
    TREATMENT_TARGETS,
    TREATMENT_TYPES,
    VERDICTS,
    Episode,
    Patient,
    PromAdministration,
    Treatment,
)

EXPORT_FORMAT = "hipspine.registry-rows/1"
RECORD_TYPES = ("patient", "episode", "treatment", "prom")
COLUMNS = (
    "record", "pseudonym", "synthetic", "year_of_birth", "sex",
    "opened_on", "closed_on", "setting", "verdict", "pathway",
    "type", "target", "side", "level", "performed_on", "episode_opened_on",
    "instrument", "timepoint", "administered_on", "items", "score", "missing_items",
)
MAX_REPORTED_PROBLEMS = 20
CHUNK = 500
TEXT_LENGTHS = {"level": 16, "pathway": 64}  # the registry's column sizes
ALREADY_REGISTERED = "patient already registered"
SURGERY_TARGETS_INDEX = ("total_hip_arthroplasty", "lumbar_decompression", "lumbar_fusion",
                         "hip_arthroscopy", "revision_hip_arthroplasty",
                         "revision_lumbar_surgery")

Progress = Callable[[str], None]


@dataclass
class ImportResult:
    patients: int = 0
    episodes: int = 0
    treatments: int = 0
    proms: int = 0
    synthetic_rows: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"patients": self.patients, "episodes": self.episodes,
                "treatments": self.treatments, "proms": self.proms,
                "synthetic_rows": self.synthetic_rows}


@dataclass
class _Plan:
    patients: list[dict[str, Any]] = field(default_factory=list)
    episodes: list[dict[str, Any]] = field(default_factory=list)
    treatments: list[dict[str, Any]] = field(default_factory=list)
    proms: list[dict[str, Any]] = field(default_factory=list)
    in_file: dict[str, bool] = field(default_factory=dict)  # patient rows: pseudonym -> synthetic
    referenced: set[str] = field(default_factory=set)  # pseudonyms other rows refer to
    episodes_in_file: set[tuple[str, dt.date]] = field(default_factory=set)


# --- reading ----------------------------------------------------------------------------

def decode_text(data: bytes, what: str = "import file") -> str:
    """File bytes as text: UTF-8, with or without a byte-order mark; `InputError` otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.single("file", f"byte {exc.start}", "UTF-8 text (with or without a "
                                "byte-order mark)", what=what) from None


def read_rows(text: str, fmt: str) -> list[dict[str, Any]]:
    """Parse CSV (header row) or JSON (a list, or an object with `rows`) into row dicts.

    A leading byte-order mark is ignored; JSON is decoded under the one JSON policy (no
    NaN/Infinity, duplicate keys, lone surrogates or deep nesting)."""
    from hipspine.models.validation import loads_strict

    text = text.removeprefix("\ufeff")
    if fmt == "csv":
        return _csv_rows(text)
    if fmt == "json":
        data = loads_strict(text, "import file")
        rows = data.get("rows") if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InputError.single("rows", type(rows).__name__, "a list of row objects",
                                    what="import file")
        return rows
    raise InputError.single("format", fmt, "csv, json", what="command-line option")


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        if reader.fieldnames is None or "record" not in reader.fieldnames:
            raise InputError.single("header", reader.fieldnames, "a CSV header with a "
                                    "'record' column and the columns " + ", ".join(COLUMNS),
                                    what="import file")
        unknown = [c for c in reader.fieldnames if c not in COLUMNS]
        if unknown:
            raise InputError.single("header", unknown, ", ".join(COLUMNS), "unknown columns",
                                    what="import file")
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in reader]
    except csv.Error as exc:  # e.g. a NUL character, an unterminated quote
        raise InputError.single("file", f"line {reader.line_num}", "CSV text", str(exc),
                                what="import file") from None


def rows_from_fhir(text: str, pseudonym: str, *, register_patient: bool) -> list[dict[str, Any]]:
    """PROM rows from one patient's FHIR QuestionnaireResponses (Bundle, resource or NDJSON).

    Mapping is the EHR adapter's (`hipspine.ehr.fhir_in`); rows are then validated like any
    other import. `register_patient` adds a patient row (sex from the Patient resource).
    """
    try:
        from hipspine.ehr.fhir_in import import_resources, parse_fhir_text
    except ImportError:  # pragma: no cover - the EHR adapter ships with hipspine
        raise InputError.single("format", "fhir", "csv, json (FHIR support not installed)",
                                what="command-line option") from None
    result = import_resources(parse_fhir_text(text))
    rows: list[dict[str, Any]] = []
    if register_patient:
        rows.append({"record": "patient", "pseudonym": pseudonym, "sex": result.case.sex})
    for entry in result.case.proms:
        rows.append({"record": "prom", "pseudonym": pseudonym, "instrument": entry.instrument,
                     "administered_on": entry.date, "items": entry.items,
                     "score": entry.score})
    if not any(r["record"] == "prom" for r in rows):
        raise InputError.single("document", "no completed QuestionnaireResponse",
                                "QuestionnaireResponses of a known PROM instrument",
                                what="FHIR input")
    return rows


# --- validating -------------------------------------------------------------------------

class _Rows:
    """Collects per-row problems with `rows[i].field` names."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def bad(self, index: int, name: str, value: Any, allowed: str, message: str = "") -> None:
        self.problems.append(Problem(f"rows[{index}].{name}", value, allowed, message))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def _bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "t"):
        return True
    if text in ("false", "0", "no", "f"):
        return False
    raise ValueError(value)


def validate_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> _Plan:
    """Check every row against the registry's rules; raise one InputError listing the first
    (a `ConflictError` when the only problems are patients already registered)."""
    return check_registry(session, read_plan(rows))


def read_plan(rows: Sequence[Mapping[str, Any]]) -> _Plan:
    """Check every row on its own and against the others (no database needed): values,
    pseudonyms, dates, PROM items and scores, duplicates; timepoints assigned."""
    from hipspine.proms import find_instrument, parse_items_any
    from hipspine.proms.knowledge import packaged_timepoints
    from hipspine.proms.scoring import compute, scores_record, validate_items
    from hipspine.proms.timepoints import assign_timepoint

    check = _Rows()
    plan = _Plan()
    pseudonyms_in_file = plan.in_file  # pseudonym -> synthetic
    episodes_in_file = plan.episodes_in_file
    referenced = plan.referenced
    windows = packaged_timepoints().windows

    def choice(i: int, row: Mapping[str, Any], name: str, allowed: Sequence[str],
               required: bool = False) -> str | None:
        value = _text(row.get(name))
        if value is None:
            if required:
                check.bad(i, name, None, ", ".join(allowed), "required")
            return None
        if value not in allowed:
            check.bad(i, name, value, ", ".join(allowed))
        return value

    def date(i: int, row: Mapping[str, Any], name: str, required: bool) -> dt.date | None:
        raw = row.get(name)
        if isinstance(raw, str):
            raw = raw.strip() or None
        if raw is None:
            if required:
                check.bad(i, name, None, clinical_date_allowed(), "required")
            return None
        value, problem = parse_clinical_date(f"rows[{i}].{name}", raw)
        if problem is not None:
            check.problems.append(problem)
        return value

    def free_text(i: int, row: Mapping[str, Any], name: str) -> str | None:
        value = _text(row.get(name))
        limit = TEXT_LENGTHS[name]
        if value is not None and (len(value) > limit or has_control_character(value)):
            check.bad(i, name, value, f"text of at most {limit} characters, without control "
                      "characters")
        return value

    for i, row in enumerate(rows):
        if len(check.problems) >= MAX_REPORTED_PROBLEMS:
            break
        unknown = [k for k in row if k not in COLUMNS]
        if unknown:
            check.bad(i, unknown[0], row[unknown[0]], ", ".join(COLUMNS), "unknown column")
            continue
        record = choice(i, row, "record", RECORD_TYPES, required=True)
        pseudonym = row.get("pseudonym")  # a key: taken exactly as given, never trimmed
        bad_pseudonym = pseudonym_problem(f"rows[{i}].pseudonym", pseudonym)
        if bad_pseudonym is not None or pseudonym is None:  # None is refused as well
            if bad_pseudonym is not None:
                check.problems.append(bad_pseudonym)
            continue
        if record == "patient":
            try:
                synthetic = bool(_bool(row.get("synthetic")))
            except ValueError:
                check.bad(i, "synthetic", row.get("synthetic"), "true or false")
                synthetic = False
            yob_raw = row.get("year_of_birth")
            yob: int | None = None
            if yob_raw is not None:
                yob, problem = parse_year_of_birth("year_of_birth", yob_raw)
                if problem is not None:
                    check.bad(i, "year_of_birth", yob_raw, problem.allowed)
            sex = choice(i, row, "sex", SEXES)
            if pseudonym in pseudonyms_in_file:
                check.bad(i, "pseudonym", pseudonym, "each patient once per file",
                          "duplicate patient row")
            pseudonyms_in_file[pseudonym] = synthetic
            plan.patients.append({"pseudonym": pseudonym, "year_of_birth": yob, "sex": sex,
                                  "synthetic": synthetic, "_row": i})
            continue
        referenced.add(pseudonym)
        if record == "episode":
            opened = date(i, row, "opened_on", True)
            closed = date(i, row, "closed_on", False)
            if opened and closed and closed < opened:
                check.bad(i, "closed_on", str(closed), f"on or after opened_on ({opened})")
            if opened is not None:
                if (pseudonym, opened) in episodes_in_file:
                    check.bad(i, "opened_on", str(opened), "one episode per patient and date")
                episodes_in_file.add((pseudonym, opened))
            plan.episodes.append({
                "pseudonym": pseudonym, "opened_on": opened, "closed_on": closed,
                "setting": choice(i, row, "setting", SETTINGS),
                "verdict": choice(i, row, "verdict", VERDICTS),
                "pathway": free_text(i, row, "pathway"), "_row": i})
        elif record == "treatment":
            plan.treatments.append({
                "pseudonym": pseudonym,
                "type": choice(i, row, "type", TREATMENT_TYPES, required=True),
                "target": choice(i, row, "target", TREATMENT_TARGETS, required=True),
                "side": choice(i, row, "side", SIDES), "level": free_text(i, row, "level"),
                "performed_on": date(i, row, "performed_on", True),
                "episode_opened_on": date(i, row, "episode_opened_on", False), "_row": i})
        elif record == "prom":
            instrument_name = _text(row.get("instrument"))
            administered = date(i, row, "administered_on", True)
            timepoint = choice(i, row, "timepoint", TIMEPOINTS)
            episode_opened = date(i, row, "episode_opened_on", False)
            instrument_id = None
            try:
                instrument_id = find_instrument(instrument_name or "").id
            except Exception:
                from hipspine.proms import list_instruments

                check.bad(i, "instrument", instrument_name,
                          ", ".join(x.id for x in list_instruments()))
            items_raw = row.get("items")
            score_raw = row.get("score")
            entry: dict[str, Any] = {
                "pseudonym": pseudonym, "instrument": instrument_id, "timepoint": timepoint,
                "administered_on": administered, "episode_opened_on": episode_opened,
                "_row": i}
            if instrument_id is not None and items_raw is not None:
                inst = find_instrument(instrument_id)
                try:
                    items = validate_items(inst, parse_items_any(items_raw))
                except InputError as exc:
                    for p in exc.problems:
                        check.bad(i, p.field, p.value, p.allowed, p.message)
                    continue
                done = compute(inst, items[: len(inst.items)])
                entry.update(items=items, score=done.value, scores=scores_record(inst, done),
                             missing_items=len(done.missing))
            elif instrument_id is not None and score_raw is not None:
                inst = find_instrument(instrument_id)
                try:
                    value = float(score_raw)
                    if not inst.range[0] <= value <= inst.range[1]:
                        raise ValueError
                except ValueError:
                    check.bad(i, "score", score_raw,
                              f"a number {inst.range[0]:g}-{inst.range[1]:g}")
                    continue
                entry.update(items=[], score=value, scores={"status": "score_only"},
                             missing_items=0)
            elif instrument_id is not None:
                check.bad(i, "items", None, "item responses, or a score when items are "
                          "not available", "required")
                continue
            entry["_assign"] = timepoint is None
            plan.proms.append(entry)

    if check.problems:
        raise InputError(check.problems[:MAX_REPORTED_PROBLEMS],
                         what="import (nothing imported)")
    _assign_timepoints(plan, windows, assign_timepoint)
    return plan


def check_registry(session: Session, plan: _Plan) -> _Plan:
    """Check a plan against what the registry holds now: new patients not yet registered,
    referenced patients and episodes present. Run inside the write transaction, so that
    what another writer committed first is seen."""
    check = _Rows()
    _check_references(session, plan, plan.in_file, plan.referenced, plan.episodes_in_file,
                      check)
    if check.problems:
        problems = check.problems[:MAX_REPORTED_PROBLEMS]
        if all(p.message == ALREADY_REGISTERED for p in problems):
            raise ConflictError(problems, what="import (nothing imported): these "
                                     "patients are already in the registry")
        raise InputError(problems, what="import (nothing imported)")
    return plan


def _check_references(session: Session, plan: _Plan, in_file: dict[str, bool],
                      referenced: set[str], episodes_in_file: set[tuple[str, dt.date]],
                      check: _Rows) -> None:
    existing = _existing_pseudonyms(session, set(in_file) | referenced)
    for p in plan.patients:
        if p["pseudonym"] in existing:
            check.bad(p["_row"], "pseudonym", p["pseudonym"],
                      "a pseudonym not yet in the registry", ALREADY_REGISTERED)
    known = set(in_file) | set(existing)
    db_episodes = _existing_episodes(session, [existing[p] for p in referenced if p in existing])
    for rows in (plan.episodes, plan.treatments, plan.proms):
        for r in rows:
            if r["pseudonym"] not in known:
                check.bad(r["_row"], "pseudonym", r["pseudonym"],
                          "a patient row in this file or a registered patient")
                continue
            ep = r.get("episode_opened_on")
            if ep is not None and (r["pseudonym"], ep) not in episodes_in_file:
                pid = existing.get(r["pseudonym"])
                if pid is None or (pid, ep) not in db_episodes:
                    check.bad(r["_row"], "episode_opened_on", str(ep),
                              "the opening date of an episode of this patient")
    # synthetic status is the patient's, for every record of that patient
    synthetic_of = dict(in_file)
    if referenced - set(in_file):
        for pseudonym, synthetic in session.execute(
                select(Patient.pseudonym, Patient.synthetic)
                .where(Patient.pseudonym.in_(list(referenced - set(in_file))))):
            synthetic_of[pseudonym] = synthetic
    for rows in (plan.episodes, plan.treatments, plan.proms):
        for r in rows:
            r["synthetic"] = bool(synthetic_of.get(r["pseudonym"], False))


def _assign_timepoints(plan: _Plan, windows: Any, assign: Any) -> None:
    """PROM rows without a timepoint: map the date against the episode's index date."""
    index: dict[tuple[str, dt.date], dt.date] = {}
    for e in plan.episodes:
        index[(e["pseudonym"], e["opened_on"])] = e["opened_on"]
    surgery: dict[tuple[str, dt.date], dt.date] = {}
    for t in plan.treatments:
        key = (t["pseudonym"], t["episode_opened_on"])
        if t["episode_opened_on"] is not None and t["type"] in SURGERY_TARGETS_INDEX:
            surgery[key] = min(surgery.get(key, t["performed_on"]), t["performed_on"])
    for p in plan.proms:
        if not p.pop("_assign"):
            continue
        key = (p["pseudonym"], p["episode_opened_on"])
        anchor = surgery.get(key) or index.get(key)
        if anchor is not None and p["administered_on"] is not None:
            p["timepoint"] = assign(p["administered_on"], anchor, windows)


def _existing_pseudonyms(session: Session, names: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    names = list(names)
    for start in range(0, len(names), CHUNK):
        chunk = names[start:start + CHUNK]
        for pid, pseudonym in session.execute(
                select(Patient.id, Patient.pseudonym).where(Patient.pseudonym.in_(chunk))):
            found[pseudonym] = pid
    return found


def _existing_episodes(session: Session,
                       patient_ids: Sequence[int]) -> dict[tuple[int, dt.date], int]:
    found: dict[tuple[int, dt.date], int] = {}
    for start in range(0, len(patient_ids), CHUNK):
        chunk = list(patient_ids[start:start + CHUNK])
        for eid, pid, opened in session.execute(
                select(Episode.id, Episode.patient_id, Episode.opened_on)
                .where(Episode.patient_id.in_(chunk)).order_by(Episode.id)):
            found.setdefault((pid, opened), eid)
    return found


# --- writing ----------------------------------------------------------------------------

def import_rows(engine: Engine, rows: Sequence[Mapping[str, Any]],
                progress: Progress | None = None, *, actor: AuditActor | None = None,
                source: str | None = None) -> ImportResult:
    """Validate every row, then write them all in one transaction (or nothing).

    The transaction holds the registry's write lock from validation to commit and carries
    the import's audit event (`actor`, default the OS user as `cli:<user>`; counts and the
    `source` format only, never a pseudonym). A clash with a record another writer stored
    meanwhile raises `ConflictError` naming the rows and pseudonyms; nothing is written.
    """
    from hipspine.registry.database import write_transaction

    say = progress or (lambda _msg: None)
    plan = read_plan(rows)  # parsing and scoring outside the lock: other writers go on
    say(f"validated {len(rows)} rows")
    try:
        with write_transaction(engine) as conn:
            session = Session(bind=conn)  # joins the write transaction; commit is the block's
            try:
                check_registry(session, plan)
                say("writing")
                result = _write(session, plan, say)
                detail: dict[str, Any] = {"rows": len(rows), **result.as_dict()}
                if source:
                    detail["format"] = source
                record_audit(session, actor or cli_actor(), "registry.import", "registry",
                             None, detail)
                session.flush()
            finally:
                session.close()
    except IntegrityError as exc:  # a writer outside the write lock got there first
        raise _conflict(engine, rows, exc) from None
    say("committed")
    return result


def _conflict(engine: Engine, rows: Sequence[Mapping[str, Any]],
              exc: IntegrityError) -> ConflictError:
    """Name what clashed: validate the rows again now that the other writer has committed."""
    from hipspine.registry.database import session_scope

    try:
        with session_scope(engine) as session:
            validate_rows(session, rows)
    except ConflictError as found:
        found.what = ("import (nothing imported): another writer registered these patients "
                      "while the import ran")
        return found
    except InputError as found:
        return ConflictError(found.problems, what="import (nothing imported): the "
                                  "registry changed while the import ran")
    constraint = str(getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or "")
    return ConflictError([Problem(
        "(registry)", constraint or str(exc.orig).splitlines()[0][:120],
        "records no other writer stores at the same time",
        "another writer stored a clashing record while the import ran; nothing was "
        "imported: run the import again")], what="import (nothing imported)")


def _strip(rows: Iterable[dict[str, Any]], drop: Sequence[str]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in drop and not k.startswith("_")}
            for r in rows]


def _write(session: Session, plan: _Plan, say: Progress) -> ImportResult:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for start in range(0, len(plan.patients), 5000):
        batch = _strip(plan.patients[start:start + 5000], ())
        for b in batch:
            b["created_at"] = now
        session.execute(insert(Patient), batch)
    names = {r["pseudonym"] for rows in (plan.patients, plan.episodes, plan.treatments,
                                         plan.proms) for r in rows}
    ids = _existing_pseudonyms(session, names)
    say(f"wrote {len(plan.patients)} patients")
    episode_rows = []
    for e in plan.episodes:
        row = _strip([e], ("pseudonym",))[0]
        row["patient_id"] = ids[e["pseudonym"]]
        episode_rows.append(row)
    for start in range(0, len(episode_rows), 5000):
        session.execute(insert(Episode), episode_rows[start:start + 5000])
    episodes = _existing_episodes(session, sorted({ids[r["pseudonym"]] for rows in (
        plan.episodes, plan.treatments, plan.proms) for r in rows}))
    say(f"wrote {len(plan.episodes)} episodes")

    def link(r: dict[str, Any]) -> dict[str, Any]:
        out = _strip([r], ("pseudonym", "episode_opened_on"))[0]
        pid = ids[r["pseudonym"]]
        out["patient_id"] = pid
        ep = r.get("episode_opened_on")
        out["episode_id"] = episodes.get((pid, ep)) if ep is not None else None
        return out

    treatments = [link(t) for t in plan.treatments]
    for start in range(0, len(treatments), 5000):
        session.execute(insert(Treatment), treatments[start:start + 5000])
    say(f"wrote {len(treatments)} treatments")
    proms = [link(p) for p in plan.proms]
    for start in range(0, len(proms), 5000):
        session.execute(insert(PromAdministration), proms[start:start + 5000])
        say(f"wrote {min(start + 5000, len(proms))} of {len(proms)} PROM administrations")
    synthetic_rows = sum(1 for rows in (plan.patients, plan.episodes, plan.treatments,
                                        plan.proms) for r in rows if r.get("synthetic"))
    return ImportResult(patients=len(plan.patients), episodes=len(plan.episodes),
                        treatments=len(treatments), proms=len(proms),
                        synthetic_rows=synthetic_rows)


# --- exporting --------------------------------------------------------------------------

def iter_export_rows(session: Session, *, synthetic: bool | None = None,
                     batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every record as an import-compatible row, streamed (memory stays bounded)."""
    pseudonym_of: dict[int, str] = {}
    episode_date: dict[int, dt.date] = {}
    patient_query = select(Patient).order_by(Patient.id)
    if synthetic is not None:
        patient_query = patient_query.where(Patient.synthetic == synthetic)
    for p in session.scalars(patient_query.execution_options(yield_per=batch)):
        pseudonym_of[p.id] = p.pseudonym
        yield {"record": "patient", "pseudonym": p.pseudonym, "synthetic": p.synthetic,
               "year_of_birth": p.year_of_birth, "sex": p.sex}
    for e in session.scalars(select(Episode).order_by(Episode.id)
                             .execution_options(yield_per=batch)):
        if e.patient_id not in pseudonym_of:
            continue
        episode_date[e.id] = e.opened_on
        yield {"record": "episode", "pseudonym": pseudonym_of[e.patient_id],
               "synthetic": e.synthetic, "opened_on": e.opened_on.isoformat(),
               "closed_on": e.closed_on.isoformat() if e.closed_on else None,
               "setting": e.setting, "verdict": e.verdict, "pathway": e.pathway}
    for t in session.scalars(select(Treatment).order_by(Treatment.id)
                             .execution_options(yield_per=batch)):
        if t.patient_id not in pseudonym_of:
            continue
        yield {"record": "treatment", "pseudonym": pseudonym_of[t.patient_id],
               "synthetic": t.synthetic, "type": t.type, "target": t.target, "side": t.side,
               "level": t.level, "performed_on": t.performed_on.isoformat(),
               "episode_opened_on": _episode_iso(episode_date, t.episode_id)}
    for a in session.scalars(select(PromAdministration).order_by(PromAdministration.id)
                             .execution_options(yield_per=batch)):
        if a.patient_id not in pseudonym_of:
            continue
        yield {"record": "prom", "pseudonym": pseudonym_of[a.patient_id],
               "synthetic": a.synthetic, "instrument": a.instrument,
               "timepoint": a.timepoint, "administered_on": a.administered_on.isoformat(),
               "items": a.items if a.items else None, "score": a.score,
               "missing_items": a.missing_items,
               "episode_opened_on": _episode_iso(episode_date, a.episode_id)}


def _episode_iso(dates: dict[int, dt.date], episode_id: int | None) -> str | None:
    if episode_id is None or episode_id not in dates:
        return None
    return dates[episode_id].isoformat()


def write_export(rows: Iterable[dict[str, Any]], out: IO[str], fmt: str) -> dict[str, int]:
    """Write rows as CSV or JSON; returns counts (all rows, synthetic rows)."""
    from hipspine.kb import knowledge_version
    from hipspine.version import ENGINE_VERSION

    total = synthetic = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS), extrasaction="raise")
        writer.writeheader()
        for row in rows:
            total += 1
            synthetic += bool(row.get("synthetic"))
            flat = dict(row)
            items = flat.get("items")
            if isinstance(items, list):  # JSON array text: unambiguous even when all missing
                flat["items"] = json.dumps(items, separators=(",", ":"))
            flat["synthetic"] = "true" if row.get("synthetic") else "false"
            writer.writerow(flat)
        return {"rows": total, "synthetic_rows": synthetic}
    if fmt != "json":
        raise InputError.single("format", fmt, "csv, json", what="command-line option")
    out.write("{\n")
    out.write(f'  "format": {json.dumps(EXPORT_FORMAT)},\n')
    out.write(f'  "engine_version": {json.dumps(ENGINE_VERSION)},\n')
    out.write(f'  "knowledge_version": {json.dumps(knowledge_version())},\n')
    out.write(f'  "exported_at": {json.dumps(dt.datetime.now(dt.UTC).isoformat())},\n')
    out.write('  "rows": [\n')
    for row in rows:
        out.write(("    " if total == 0 else ",\n    ")
                  + json.dumps({k: v for k, v in row.items() if v is not None},
                               ensure_ascii=False))
        total += 1
        synthetic += bool(row.get("synthetic"))
    out.write("\n  ],\n")
    out.write(f'  "row_count": {total},\n')
    out.write(f'  "synthetic_rows": {synthetic},\n')
    notice = ("every row marked synthetic: true is SYNTHETIC test data, not a patient"
              if synthetic else "no synthetic rows")
    out.write(f'  "synthetic_notice": {json.dumps(notice)}\n')
    out.write("}\n")
    return {"rows": total, "synthetic_rows": synthetic}


def export_registry(engine: Engine, out: IO[str], fmt: str, *,
                    synthetic: bool | None = None,
                    actor: AuditActor | None = None) -> dict[str, int]:
    """Write every record (or only synthetic / only real ones) and audit the export: in the
    export's own transaction when it completes, and as an incomplete export (rows written so
    far) when it fails midway, since what was written may already have left the machine."""
    from hipspine.registry.database import session_scope

    who = actor or cli_actor()
    scope = {None: "all", True: "synthetic", False: "real"}[synthetic]
    written = {"rows": 0, "synthetic_rows": 0}

    def counted(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in rows:
            written["rows"] += 1
            written["synthetic_rows"] += bool(row.get("synthetic"))
            yield row

    try:
        with session_scope(engine) as session:
            counts = write_export(counted(iter_export_rows(session, synthetic=synthetic)),
                                  out, fmt)
            record_audit(session, who, "registry.export", "registry", None,
                         {**counts, "format": fmt, "records": scope})
    except BaseException:
        if written["rows"]:
            try:
                with session_scope(engine) as session:
                    record_audit(session, who, "registry.export", "registry", None,
                                 {**written, "format": fmt, "records": scope,
                                  "completed": False})
            except Exception:  # noqa: S110 - the export's own error is the one to report
                pass
        raise
    return counts
