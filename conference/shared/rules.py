"""The error a service raises when a rule refuses a change; views show its message next to the form field."""


class RuleError(ValueError):
    """A change the rules forbid; ``field`` names the form field the message belongs to."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


class RuleErrors(RuleError):
    """Every problem of one form at once, each as (field, message); ``field`` and ``message`` are the first one's."""

    def __init__(self, problems: list[tuple[str, object]]):
        super().__init__(*problems[0])
        self.problems = list(problems)


def problems_of(error: RuleError) -> dict[str, list]:
    """Field name → its messages, for a page that shows each message next to its field."""
    found: dict[str, list] = {}
    for field, message in getattr(error, "problems", [(error.field, error.message)]):
        found.setdefault(field, []).append(message)
    return found
