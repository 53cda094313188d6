"""Small markers shared by the tracer's modules."""


class _Unbound:
    """What LOAD_FAST_AND_CLEAR pushes for a local that has no value yet."""

    def __repr__(self) -> str:
        return "UNBOUND"


UNBOUND = _Unbound()
