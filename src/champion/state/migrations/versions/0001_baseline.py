"""Baseline: champion's tables as they were when migrations began (0.1).

Every statement is "if not exists", so a first migration killed half-way is finished by the
next run (SQLite creates tables outside transactions), and a database made before migrations
existed (by `create_all`) is adopted as it is.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_jobs',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('triggers', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('files', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('log_path', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    if_not_exists=True,
    )
    op.create_index(op.f('ix_agent_jobs_model'), 'agent_jobs', ['model'], unique=False, if_not_exists=True)
    op.create_index(op.f('ix_agent_jobs_status'), 'agent_jobs', ['status'], unique=False, if_not_exists=True)
    op.create_table('agent_timers',
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.Column('anchor_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('model', 'kind'),
    if_not_exists=True,
    )
    op.create_table('alert_deliveries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('environment', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sink', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('ok', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    if_not_exists=True,
    )
    op.create_index(op.f('ix_alert_deliveries_model'), 'alert_deliveries', ['model'], unique=False, if_not_exists=True)
    op.create_table('alias_intents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('alias', sa.String(length=100), nullable=False),
    sa.Column('from_version', sa.Integer(), nullable=True),
    sa.Column('to_version', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    if_not_exists=True,
    )
    op.create_index(op.f('ix_alias_intents_model'), 'alias_intents', ['model'], unique=False, if_not_exists=True)
    op.create_table('alias_moves',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('alias', sa.String(length=100), nullable=False),
    sa.Column('from_version', sa.Integer(), nullable=True),
    sa.Column('to_version', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    if_not_exists=True,
    )
    op.create_index(op.f('ix_alias_moves_model'), 'alias_moves', ['model'], unique=False, if_not_exists=True)
    op.create_table('endpoint_heartbeats',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('environment', sa.String(length=100), nullable=False),
    sa.Column('machine', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('versions', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    if_not_exists=True,
    )
    op.create_index(op.f('ix_endpoint_heartbeats_environment'), 'endpoint_heartbeats', ['environment'], unique=False, if_not_exists=True)
    op.create_table('feedback',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('environment', sa.String(length=100), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.Column('request_id', sa.Text(), nullable=True),
    sa.Column('row', sa.Integer(), nullable=True),
    sa.Column('identity_key', sa.String(length=64), nullable=True),
    sa.Column('feature_key', sa.String(length=64), nullable=True),
    sa.Column('actual', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    if_not_exists=True,
    )
    op.create_index('ix_feedback_feature', 'feedback', ['feature_key', 'model', 'environment'], unique=False, if_not_exists=True)
    op.create_index('ix_feedback_identity', 'feedback', ['identity_key', 'model', 'environment'], unique=False, if_not_exists=True)
    op.create_index('ix_feedback_request', 'feedback', ['request_id', 'model', 'environment'], unique=False, if_not_exists=True)
    op.create_index('ix_feedback_scope', 'feedback', ['model', 'environment', 'at'], unique=False, if_not_exists=True)
    op.create_table('ingested_files',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('original', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    if_not_exists=True,
    )
    op.create_index(op.f('ix_ingested_files_model'), 'ingested_files', ['model'], unique=False, if_not_exists=True)
    op.create_table('prediction_classes',
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('classes', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('model', 'version'),
    if_not_exists=True,
    )
    op.create_table('prediction_log_drops',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('environment', sa.String(length=100), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    if_not_exists=True,
    )
    op.create_index('ix_prediction_log_drops', 'prediction_log_drops', ['model', 'environment', 'at'], unique=False, if_not_exists=True)
    op.create_table('prediction_log_spool',
    sa.Column('segment', sa.String(length=200), nullable=False),
    sa.Column('loaded_bytes', sa.BigInteger(), nullable=False),
    sa.Column('loaded_rows', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('segment'),
    if_not_exists=True,
    )
    op.create_table('predictions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('environment', sa.String(length=100), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.Column('request_id', sa.Text(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('inputs', sa.Text(), nullable=False),
    sa.Column('output', sa.Text(), nullable=False),
    sa.Column('proba', sa.Text(), nullable=True),
    sa.Column('latency_ms', sa.Double(), nullable=False),
    sa.Column('identity_key', sa.String(length=64), nullable=True),
    sa.Column('feature_key', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    if_not_exists=True,
    )
    op.create_index('ix_predictions_window', 'predictions', ['model', 'environment', 'at'], unique=False, if_not_exists=True)


def downgrade() -> None:
    raise NotImplementedError("champion's state is never downgraded")
