"""Applying a set of new values to an object and knowing what really changed (for the audit trail)."""


def apply_changes(obj, values: dict) -> dict:
    """Set each value on ``obj``; return {field: [before, after]} for the fields whose value changed."""
    changed = {}
    for field, value in values.items():
        before = getattr(obj, field)
        if before != value:
            changed[field] = [before, value]
            setattr(obj, field, value)
    return changed
