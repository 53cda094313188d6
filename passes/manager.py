"""The pass pipeline: a flat list, verified after every pass, observable after every pass.

>>> import numpy as np
>>> from ..ir import Graph, TensorMeta
>>> g = Graph("f")
>>> x = g.add_input("x", TensorMeta((3,), np.dtype("float32")))
>>> g.set_outputs([g.call("add", g.call("power", x, 2), g.call("power", x, 2))])
>>> stages = []
>>> print(optimise(g, on_pass=lambda name, graph, seconds: stages.append(name)))
graph f(%x: f32[3]):
    %0 = multiply(%x, %x)                         # f32[3]
    %2 = add(%0, %0)                              # f32[3]
    return (%2,)
>>> stages  # doctest: +NORMALIZE_WHITESPACE
['simplify', 'fold_constants', 'eliminate_common_subexpressions', 'forward_whole_array_stores',
 'reduce_stacked_parts', 'eliminate_dead_code', 'write_joins_in_place']
"""
from __future__ import annotations

import time
from collections.abc import Callable

from ..ir import Graph, GraphInvariantError, verify
from .cse import eliminate_common_subexpressions
from .dce import eliminate_dead_code
from .fold import fold_constants
from .joins import reduce_stacked_parts, write_joins_in_place
from .simplify import simplify
from .stores import forward_whole_array_stores

PASSES: tuple[Callable[[Graph], Graph], ...] = (
    simplify,
    fold_constants,
    eliminate_common_subexpressions,
    forward_whole_array_stores,
    reduce_stacked_parts,
    eliminate_dead_code,
    write_joins_in_place,
)

PassHook = Callable[[str, Graph, float], None]


def optimise(graph: Graph, *, on_pass: PassHook | None = None) -> Graph:
    """Run :data:`PASSES` in order and return the optimised graph; ``graph`` itself is unchanged.

    The input is verified first (a broken graph is the frontend's bug, not a pass's), then each
    pass's output; ``on_pass(name, graph, seconds)`` is called after each pass so the runtime
    can dump or log every stage.
    """
    _verify(graph, "the input graph")
    for run_pass in PASSES:
        start = time.perf_counter()
        graph = run_pass(graph)
        seconds = time.perf_counter() - start
        _verify(graph, f"the output of {run_pass.__name__}")
        if on_pass is not None:
            on_pass(run_pass.__name__, graph, seconds)
    return graph


def _verify(graph: Graph, what: str) -> None:
    try:
        verify(graph)
    except GraphInvariantError as error:
        raise GraphInvariantError(f"{what} is broken: {error}") from error
