"""Plumbing below the models: database set-up, translations, Korean dates, masking, ids, downloads.

Nothing here imports the models, the shared services or a feature (tests/test_architecture.py).
"""
