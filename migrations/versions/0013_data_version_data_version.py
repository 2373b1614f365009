"""data version: figures_version becomes data_version, with a second counter for rendered pages

Revision ID: 0013_data_version
Revises: 0012_list_indexes
Create Date: 2026-11-24 16:20:00

"""
from alembic import op
import sqlalchemy as sa

import conference.core.database  # noqa: F401  (UTCDateTime in column types)


# revision identifiers, used by Alembic.
revision = '0013_data_version'
down_revision = '0012_list_indexes'
branch_labels = None
depends_on = None

FIGURES, PAGES = 1, 2


def _rename(old, new):
    op.rename_table(old, new)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")


def upgrade():
    _rename("figures_version", "data_version")
    table = sa.table("data_version", sa.column("id", sa.Integer), sa.column("version", sa.Integer))
    existing = {row[0] for row in op.get_bind().execute(sa.select(table.c.id))}
    for counter in (FIGURES, PAGES):
        if counter not in existing:
            op.execute(table.insert().values(id=counter, version=0))


def downgrade():
    op.execute("DELETE FROM data_version WHERE id <> 1")
    _rename("data_version", "figures_version")
