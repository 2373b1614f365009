"""Entry point: ``flask --app app …`` and ``gunicorn app:app``."""
from conference import create_app

app = create_app()
