"""Ember's version: a leaf module, so the disk cache can key on it without importing package metadata
(``importlib.metadata`` took 14 ms of a new process's first compile). pyproject.toml has the same
number; tests/test_packaging.py checks that they agree."""
__version__ = "0.1.0"
