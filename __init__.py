"""Ember: a tracing compiler for NumPy functions."""
