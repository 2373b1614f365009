"""Helpers shared by every form page."""


def attach_error(form, field_name: str, message) -> None:
    """Show ``message`` next to the named field, or above the form when there is no such field."""
    field = getattr(form, field_name, None)
    if field is not None and isinstance(getattr(field, "errors", None), (list, tuple)):
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)
