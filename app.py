"""Entry point: ``flask --app app …`` and ``gunicorn app:app``."""
import gc

from conference import create_app

app = create_app()

# What start-up made (the app, the mappers, the translations: some 170,000 objects) lives as long as the worker.
# Frozen, the collector's full passes no longer walk it: such a pass cost about 80 ms, and a worker rendering
# pages ran one every few dozen views (2 ms a view on the meeting page; docs/PERFORMANCE.md).
gc.collect()
gc.freeze()
