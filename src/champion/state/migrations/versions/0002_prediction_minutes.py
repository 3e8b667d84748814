"""Traffic per minute: `prediction_minutes`, backfilled from the prediction log.

One row per (model, environment, minute, version): scored requests and rows, failed
requests (5xx errors, 4xx rejected), the latency sum and a latency histogram, so the control
room reads rates and percentiles without scanning `predictions`. The backfill counts each
logged request once (its row 0, whose latency is the request's); failed requests were never
logged before this revision, so past minutes have none.

"If not exists" like 0001: on SQLite the table is created outside the transaction, so a run
killed during the backfill leaves an empty or partial table; the backfill first empties it
(nothing else writes it before this revision is recorded: writers migrate first, and wait
for this migration's lock), then fills it in the same transaction as the revision.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen here: champion.state.predictions.LATENCY_BOUNDS_MS as of this revision.
BOUNDS_MS = (0.5, 1, 1.5, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000,
             5000, 10000)
BUCKETS = [f"ms_le_{bound:g}".replace(".", "_") for bound in BOUNDS_MS] + [f"ms_gt_{BOUNDS_MS[-1]:g}"]


def upgrade() -> None:
    op.create_table('prediction_minutes',
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('environment', sa.String(length=100), nullable=False),
    sa.Column('minute', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('requests', sa.BigInteger(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('errors', sa.BigInteger(), nullable=False),
    sa.Column('rejected', sa.BigInteger(), nullable=False),
    sa.Column('latency_sum_ms', sa.Double(), nullable=False),
    *(sa.Column(name, sa.BigInteger(), nullable=False) for name in BUCKETS),
    sa.PrimaryKeyConstraint('model', 'environment', 'minute', 'version'),
    if_not_exists=True,
    )
    op.execute("DELETE FROM prediction_minutes")
    op.execute(_backfill(op.get_bind().dialect.name))


def _backfill(dialect: str) -> str:
    """One INSERT ... SELECT ... GROUP BY over the log. The minute is the request time
    truncated to whole seconds, then to the minute (as `predictions.minute_of` does)."""
    if dialect == "postgresql":
        minute = "CAST(FLOOR(at) AS BIGINT) / 60 * 60"
    else:
        minute = "CAST(at AS INTEGER) / 60 * 60"
    buckets = []
    lower = None
    for bound in BOUNDS_MS:
        above = "" if lower is None else f" AND latency_ms > {lower}"
        buckets.append(f'SUM(CASE WHEN "row" = 0{above} AND latency_ms <= {bound} THEN 1 ELSE 0 END)')
        lower = bound
    buckets.append(f'SUM(CASE WHEN "row" = 0 AND latency_ms > {lower} THEN 1 ELSE 0 END)')
    columns = ", ".join(f'"{c}"' for c in ["model", "environment", "minute", "version", "requests", "rows", "errors",
                                            "rejected", "latency_sum_ms", *BUCKETS])
    return (f"INSERT INTO prediction_minutes ({columns}) "
            f'SELECT model, environment, {minute}, version, SUM(CASE WHEN "row" = 0 THEN 1 ELSE 0 END), COUNT(*), '
            f'0, 0, SUM(CASE WHEN "row" = 0 THEN latency_ms ELSE 0 END), {", ".join(buckets)} '
            f"FROM predictions GROUP BY model, environment, {minute}, version")


def downgrade() -> None:
    raise NotImplementedError("champion's state is never downgraded")
