"""Errors Ember raises to users."""


class GraphBreakError(RuntimeError):
    """Raised with ``fullgraph=True`` when a function cannot be captured as one graph; the
    message names the reason and the user's file:line."""
