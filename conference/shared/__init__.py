"""Shared services above the models: who may see what (permissions, the disclosure policy), notifications, kept
pages and data versions, paging, form helpers and the "rule refused" error.

They import the core and the models, never a feature (tests/test_architecture.py).
"""
