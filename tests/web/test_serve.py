"""`hipspine serve --demo`: accounts and SYNTHETIC patients on first run, nothing twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner


def test_demo_seeds_once_and_labels_everything_synthetic(tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from hipspine.registry import get_engine, session_scope
    from hipspine.registry.tables import Patient, PatientAssignment, User
    from hipspine.web.demo import prepare_demo

    engine = get_engine(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    first = prepare_demo(engine, patients=15, seed=5)
    second = prepare_demo(engine, patients=15, seed=5)
    assert first.seeded_now and not second.seeded_now
    assert first.patients == second.patients == 15
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Patient)
                        .where(Patient.synthetic.is_(False))) == 0
        assert sorted(s.scalars(select(User.role))) == ["admin", "clinician", "researcher"]
        assert s.scalar(select(func.count()).select_from(PatientAssignment)) == 15


def test_serve_help_names_demo_and_port() -> None:
    from hipspine.cli import app

    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--demo" in result.output and "--port" in result.output


def test_demo_database_is_not_the_registry(monkeypatch: Any) -> None:
    from hipspine.registry import database_url
    from hipspine.web.demo import demo_database_url

    monkeypatch.delenv("HIPSPINE_DATABASE_URL", raising=False)
    assert demo_database_url() != database_url()


def test_create_admin_for_a_new_clinic(tmp_path: Path, monkeypatch: Any) -> None:
    from sqlalchemy import select

    from hipspine.commands.serve import _create_admin, _has_accounts
    from hipspine.registry import get_engine, session_scope
    from hipspine.registry.tables import User

    engine = get_engine(f"sqlite:///{tmp_path / 'clinic.sqlite'}")
    assert not _has_accounts(engine)
    monkeypatch.setenv("HIPSPINE_ADMIN_PASSWORD", "first-admin-password")
    _create_admin(engine, "chief")
    assert _has_accounts(engine)
    with session_scope(engine) as s:
        user = s.scalar(select(User).where(User.username == "chief"))
        assert user is not None and user.role == "admin"
        assert "first-admin-password" not in user.password_hash
