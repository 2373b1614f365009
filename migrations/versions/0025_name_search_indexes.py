"""name search indexes: heads' names lowered from their 1st to 8th character on, and the longer names on their own

They replace ix_member_head_name (the list sorted by name reads the first). On PostgreSQL each expression also gets
statistics: the planner ignores a partial index's, and without them it sorted every match of a common surname.

Revision ID: 0025_name_search_indexes
Revises: 0024_active_actions_index
Create Date: 2026-12-11 11:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_name_search_indexes'
down_revision = '0024_active_actions_index'
branch_labels = None
depends_on = None

PLACES = 8
SQLITE_HEADS, POSTGRESQL_HEADS = "is_head IS 1", "is_head IS true"


def _from(place):
    return sa.text("lower(name)" if place == 1 else f"substr(lower(name), {place})")


def _heads(*conditions):
    return {"sqlite_where": sa.text(" AND ".join((SQLITE_HEADS, *conditions))),
            "postgresql_where": sa.text(" AND ".join((POSTGRESQL_HEADS, *conditions)))}


def upgrade():
    for place in range(1, PLACES + 1):
        op.create_index(f'ix_member_head_name_from_{place}', 'household_member', [_from(place), 'household_id'],
                        unique=False, **_heads(*([f"length(name) >= {place}"] if place > 1 else [])))
    op.create_index('ix_member_head_long_name', 'household_member', ['household_id'], unique=False,
                    **_heads(f"length(name) >= {PLACES + 1}"))
    op.drop_index('ix_member_head_name', table_name='household_member')
    if op.get_bind().dialect.name == "postgresql":
        for place in range(1, PLACES + 1):
            op.execute(f"CREATE STATISTICS st_member_name_from_{place} ON ({_from(place).text}) FROM household_member")
        op.execute("CREATE STATISTICS st_member_name_length ON (length(name)) FROM household_member")
        op.execute("ANALYZE household_member")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for place in range(1, PLACES + 1):
            op.execute(f"DROP STATISTICS IF EXISTS st_member_name_from_{place}")
        op.execute("DROP STATISTICS IF EXISTS st_member_name_length")
    op.create_index('ix_member_head_name', 'household_member', ['name', 'household_id', 'is_head'], unique=False,
                    **_heads())
    op.drop_index('ix_member_head_long_name', table_name='household_member')
    for place in range(PLACES, 0, -1):
        op.drop_index(f'ix_member_head_name_from_{place}', table_name='household_member')
