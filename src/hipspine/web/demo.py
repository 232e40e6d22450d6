"""`hipspine serve --demo`: a living system on first run, clearly labelled SYNTHETIC.

Uses its own SQLite file (never the clinic's registry), migrates it, seeds a synthetic cohort
with engineer D's generator, creates one account per role and assigns the synthetic patients
to the demo clinician. Safe to run again: nothing is seeded twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

DEMO_ACCOUNTS = (
    ("clinician", "clinician", "demo-clinician"),
    ("researcher", "researcher", "demo-researcher"),
    ("admin", "admin", "demo-admin"),
)
DEMO_PATIENTS = 300


@dataclass(frozen=True)
class DemoInfo:
    database_url: str
    accounts: tuple[tuple[str, str, str], ...]
    patients: int
    seeded_now: bool


def demo_database_url() -> str:
    import platformdirs

    return f"sqlite:///{Path(platformdirs.user_data_dir('hipspine')) / 'demo.sqlite'}"


def prepare_demo(engine: Any, patients: int = DEMO_PATIENTS, seed: int = 7) -> DemoInfo:
    """Seed accounts and a synthetic cohort unless already there; return what to print."""
    from hipspine.registry import session_scope
    from hipspine.registry.tables import Patient, PatientAssignment, User
    from hipspine.web import store

    seeded = False
    with session_scope(engine) as s:
        for username, role, password in DEMO_ACCOUNTS:
            if s.scalar(select(User).where(User.username == username)) is None:
                store.create_user(s, username, password, role,
                                  display_name=f"Demo {role}")
    with session_scope(engine) as s:
        count = s.scalar(select(func.count()).select_from(Patient)) or 0
    if count == 0:
        _write_cohort(engine, patients, seed)
        seeded = True
    with session_scope(engine) as s:
        clinician = s.scalar(select(User).where(User.username == "clinician"))
        assert clinician is not None
        assigned = set(s.scalars(select(PatientAssignment.patient_id)
                                 .where(PatientAssignment.user_id == clinician.id)))
        for pid in s.scalars(select(Patient.id).where(Patient.synthetic.is_(True))):
            if pid not in assigned:
                s.add(PatientAssignment(user_id=clinician.id, patient_id=pid))
        total = s.scalar(select(func.count()).select_from(Patient)) or 0
    return DemoInfo(str(engine.url), DEMO_ACCOUNTS, int(total), seeded)


def _write_cohort(engine: Any, patients: int, seed: int) -> None:
    try:
        from hipspine.synth import write_cohort
    except ImportError:
        return  # the generator is an optional part; the demo still has its accounts
    write_cohort(engine, n=patients, seed=seed)
