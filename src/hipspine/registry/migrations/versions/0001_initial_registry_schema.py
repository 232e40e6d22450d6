# ruff: noqa: E501
"""initial registry schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26 17:16:23.141293
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('resource_type', sa.String(length=32), nullable=True),
    sa.Column('resource_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)

    op.create_table('patients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('year_of_birth', sa.Integer(), nullable=True),
    sa.Column('sex', sa.String(length=16), nullable=True),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("sex IN ('female', 'male', 'other')", name=op.f('ck_patients_sex')),
    sa.CheckConstraint('year_of_birth BETWEEN 1890 AND 2100', name=op.f('ck_patients_year_of_birth')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients')),
    sa.UniqueConstraint('pseudonym', name=op.f('uq_patients_pseudonym'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("role IN ('clinician', 'researcher', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=128), nullable=False),
    sa.Column('label', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('episodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('setting', sa.String(length=32), nullable=True),
    sa.Column('verdict', sa.String(length=16), nullable=True),
    sa.Column('pathway', sa.String(length=64), nullable=True),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.CheckConstraint("setting IS NULL OR setting IN ('primary_care', 'spine_clinic', 'arthroplasty_clinic', 'physiotherapy')", name=op.f('ck_episodes_setting')),
    sa.CheckConstraint("verdict IS NULL OR verdict IN ('hip', 'spine', 'both', 'mimic', 'other', 'indeterminate')", name=op.f('ck_episodes_verdict')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_episodes_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_episodes'))
    )
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_episodes_patient_id'), ['patient_id'], unique=False)

    op.create_table('patient_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_patient_assignments_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_patient_assignments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_assignments')),
    sa.UniqueConstraint('user_id', 'patient_id', name='uq_assignment')
    )
    with op.batch_alter_table('patient_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_assignments_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_assignments_user_id'), ['user_id'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=True),
    sa.Column('engine_version', sa.String(length=32), nullable=False),
    sa.Column('knowledge_version', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], name=op.f('fk_assessments_episode_id_episodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_episode_id'), ['episode_id'], unique=False)

    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=True),
    sa.Column('engine_version', sa.String(length=32), nullable=False),
    sa.Column('knowledge_version', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], name=op.f('fk_plans_episode_id_episodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plans_episode_id'), ['episode_id'], unique=False)

    op.create_table('prom_administrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=True),
    sa.Column('instrument', sa.String(length=32), nullable=False),
    sa.Column('timepoint', sa.String(length=16), nullable=True),
    sa.Column('administered_on', sa.Date(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('scores', sa.JSON(), nullable=True),
    sa.Column('missing_items', sa.Integer(), server_default='0', nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.CheckConstraint("timepoint IS NULL OR timepoint IN ('baseline', '6w', '3m', '6m', '12m', '24m')", name=op.f('ck_prom_administrations_timepoint')),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], name=op.f('fk_prom_administrations_episode_id_episodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_prom_administrations_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prom_administrations'))
    )
    with op.batch_alter_table('prom_administrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prom_administrations_episode_id'), ['episode_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prom_administrations_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_prom_patient_instrument', ['patient_id', 'instrument', 'timepoint'], unique=False)

    op.create_table('treatments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=8), nullable=False),
    sa.Column('side', sa.String(length=16), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('performed_on', sa.Date(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.CheckConstraint("side IS NULL OR side IN ('left', 'right', 'bilateral')", name=op.f('ck_treatments_side')),
    sa.CheckConstraint("target IN ('hip', 'spine', 'other')", name=op.f('ck_treatments_target')),
    sa.CheckConstraint("type IN ('physiotherapy', 'nsaid', 'hip_injection', 'epidural_injection', 'nerve_root_block', 'lumbar_decompression', 'lumbar_fusion', 'total_hip_arthroplasty', 'hip_arthroscopy', 'revision_hip_arthroplasty', 'revision_lumbar_surgery', 'other')", name=op.f('ck_treatments_type')),
    sa.ForeignKeyConstraint(['episode_id'], ['episodes.id'], name=op.f('fk_treatments_episode_id_episodes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_treatments_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatments'))
    )
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_treatments_episode_id'), ['episode_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_treatments_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treatments_patient_id'))
        batch_op.drop_index(batch_op.f('ix_treatments_episode_id'))

    op.drop_table('treatments')
    with op.batch_alter_table('prom_administrations', schema=None) as batch_op:
        batch_op.drop_index('ix_prom_patient_instrument')
        batch_op.drop_index(batch_op.f('ix_prom_administrations_patient_id'))
        batch_op.drop_index(batch_op.f('ix_prom_administrations_episode_id'))

    op.drop_table('prom_administrations')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plans_episode_id'))

    op.drop_table('plans')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_episode_id'))

    op.drop_table('assessments')
    with op.batch_alter_table('patient_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_assignments_user_id'))
        batch_op.drop_index(batch_op.f('ix_patient_assignments_patient_id'))

    op.drop_table('patient_assignments')
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_episodes_patient_id'))

    op.drop_table('episodes')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('patients')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
