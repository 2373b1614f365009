"""The error a service raises when a rule refuses a change; views show its message next to the form field."""


class RuleError(ValueError):
    """A change the rules forbid; ``field`` names the form field the message belongs to."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message
