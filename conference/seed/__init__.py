"""Seed and generated data: the demo city (``demo``) and fictional households in bulk (``datagen``).

Above every feature: they create data through the features' services. Nothing else in the app imports them.
"""
