"""Eager loading for the heavy pages, with statements built once.

``selectinload`` rebuilds and re-keys its statement, with every option below it, on each query: on the case file
and a meeting's packet and minutes that bookkeeping cost more than the database (about 0.7 ms per relationship
against 0.1 ms here). ``fill(parents, Household.members)`` loads one relationship of many objects with a single
``IN`` statement built once per relationship and reused, sets it on each parent as if loaded, and returns what it
loaded, so that the next level chains: ``fill(fill(households, Household.consents), Consent.agencies)``.

The relationship must be a plain foreign-key one (one-to-many, many-to-one, one-to-one, or many-to-many through
a table); its ``order_by`` is kept, and a collection without one comes in primary-key order. A one-to-many
relationship also sets the reverse many-to-one of each child (``Member.household``) when it is declared with
``back_populates``. A relationship the session holds loaded already is kept as it is (not read again), and an
object the session holds is not overwritten by the rows read.
"""
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import MANYTOMANY, MANYTOONE, RelationshipProperty, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import BinaryExpression
from sqlalchemy.sql.operators import eq

from conference.extensions import db

#: Keys per statement: the same bound as ``selectinload``'s.
CHUNK = 500

_PLANS: dict[tuple[RelationshipProperty, ...], "_Plan"] = {}


class _Plan:
    """How one relationship is loaded: its statement (built once), which attribute of a parent holds the key it
    is looked up by, and which value of each loaded row says whose it is."""

    def __init__(self, prop: RelationshipProperty, joined: tuple):
        join = prop.primaryjoin
        if len(prop.synchronize_pairs) != 1 or not isinstance(join, BinaryExpression) or join.operator is not eq:
            raise ValueError(f"{prop}: only a relationship over one foreign-key column can be filled")
        (local, remote), = prop.synchronize_pairs
        target = prop.mapper
        keys = bindparam("keys", expanding=True)
        self.key = prop.key
        self.many = prop.uselist
        self.reverse = None
        self.by_row = False
        if prop.direction is MANYTOONE:
            # local: the target's primary key; remote: the parent's foreign key
            self.parent_key = prop.parent.get_property_by_column(remote).key
            self.child_key = target.get_property_by_column(local).key
            statement = select(target).where(local.in_(keys))
        elif prop.direction is MANYTOMANY:
            (target_column, link_target), = prop.secondary_synchronize_pairs
            self.parent_key = prop.parent.get_property_by_column(local).key
            self.by_row = True
            statement = select(remote, target).join(prop.secondary, target_column == link_target) \
                .where(remote.in_(keys))
        else:
            self.parent_key = prop.parent.get_property_by_column(local).key
            self.child_key = target.get_property_by_column(remote).key
            statement = select(target).where(remote.in_(keys))
            reverse = target.relationships.get(prop.back_populates) if prop.back_populates else None
            self.reverse = reverse.key if reverse is not None and reverse.direction is MANYTOONE else None
        # the relationship's order, then the primary key (ties come in the same order on every database)
        self.statement = statement.order_by(*(prop.order_by or ()), *target.primary_key) \
            .options(*(joinedload(attribute) for attribute in joined))

    def load(self, keys: list) -> list[tuple]:
        """(key, child) of every child of the parents with these keys."""
        rows = []
        for start in range(0, max(len(keys), 1), CHUNK):  # no keys: one statement all the same (see ``fill``)
            result = db.session.execute(self.statement, {"keys": keys[start:start + CHUNK]})
            if self.by_row:
                rows += result.all()
            else:
                rows += [(getattr(child, self.child_key), child) for child in result.scalars()]
        return rows


def _plan(attribute, joined: tuple) -> _Plan:
    key = (attribute.property, *(j.property for j in joined))
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _Plan(attribute.property, joined)
    return plan


def fill(parents: Iterable, attribute, *joined) -> list:
    """Load ``attribute`` (a relationship such as ``Household.members``) of every object in ``parents`` with one
    statement, and return the distinct objects it holds, in order. A parent whose attribute is loaded already
    keeps it (with any change not yet saved), as with ``selectinload``. ``joined``: many-to-one relationships of
    the loaded objects read in the same statement (``joinedload``), such as ``Invitation.agency``."""
    plan = _plan(attribute, joined)
    loaded: dict[int, object] = {}
    missing = []
    for parent in parents:
        if plan.key in parent.__dict__:
            value = parent.__dict__[plan.key]
            for child in (value if plan.many else [value] if value is not None else ()):
                loaded.setdefault(id(child), child)
        else:
            missing.append(parent)
    if joined and loaded:  # children loaded earlier without them
        held = list(loaded.values())
        for attribute_of_child in joined:
            fill(held, attribute_of_child)
    keys = list(dict.fromkeys(k for k in (getattr(p, plan.parent_key) for p in missing) if k is not None))
    found: dict = defaultdict(list)
    # Parents to fill always cost one statement, even when none has a key (a many-to-one left empty): a page then
    # runs as many statements whatever its data holds, as the benchmarks and tests check.
    for key, child in plan.load(keys) if missing else ():
        found[key].append(child)
        loaded.setdefault(id(child), child)
    for parent in missing:
        children = found.get(getattr(parent, plan.parent_key), [])
        set_committed_value(parent, plan.key, children if plan.many else (children[0] if children else None))
        if plan.reverse:
            for child in children:
                if plan.reverse not in child.__dict__:
                    set_committed_value(child, plan.reverse, parent)
    return list(loaded.values())
