"""Synthetic cohorts: plausible, deterministic, and marked synthetic on every record.

    from hipspine.synth import generate, write_cohort
    for batch in generate(1000, seed=7):          # no database needed
        print(len(batch.patients), len(batch.proms))
    write_cohort(engine, 100_000, seed=7)          # bulk insert into the registry
"""

from __future__ import annotations

from collections.abc import Iterator

from hipspine.synth.generator import CohortBatch, pseudonym_prefix


def generate(n: int, seed: int = 0, *, batch_size: int = 2000, patient_id_offset: int = 0,
             episode_id_offset: int = 0) -> Iterator[CohortBatch]:
    """Yield batches of whole synthetic patients as plain row dicts, table by table.

    Each batch has `patients`, `episodes`, `treatments` and `proms` lists whose dict keys
    are the registry's column names (`hipspine.registry.tables`), plus `columns(table)`.
    """
    from hipspine.errors import InputError
    from hipspine.proms.knowledge import packaged_instruments, packaged_timepoints
    from hipspine.synth.generator import generate_batches
    from hipspine.synth.params import packaged_params

    if not isinstance(n, int) or n < 0:
        raise InputError.single("patients", n, "a whole number 0 or more")
    if not isinstance(seed, int) or seed < 0:
        raise InputError.single("seed", seed, "a whole number 0 or more")
    if batch_size < 1:
        raise InputError.single("batch_size", batch_size, "1 or more")
    return generate_batches(n, seed, packaged_params(), dict(packaged_instruments()),
                            list(packaged_timepoints().windows), batch_size=batch_size,
                            patient_id_offset=patient_id_offset,
                            episode_id_offset=episode_id_offset)


def write_cohort(engine: object, n: int, seed: int = 0, **kwargs: object) -> dict[str, int]:
    """Generate and bulk-insert a cohort; see `hipspine.synth.writer.write_cohort`."""
    from hipspine.synth.writer import write_cohort as _write

    return _write(engine, n, seed, **kwargs)  # type: ignore[arg-type]


__all__ = ["CohortBatch", "generate", "pseudonym_prefix", "write_cohort"]
