# ruff: noqa: E501
"""spinopelvic results saved to a patient

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 08:16:57.126304
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('spinopelvic_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_spinopelvic_results_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spinopelvic_results'))
    )
    with op.batch_alter_table('spinopelvic_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spinopelvic_results_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('spinopelvic_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spinopelvic_results_patient_id'))

    op.drop_table('spinopelvic_results')
