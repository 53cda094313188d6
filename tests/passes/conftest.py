"""The oracle for pass tests: a rewritten graph must behave exactly like the original under
``ember.ir.interpret``: values (floats to a tolerance per dtype), dtypes, shapes,
scalar-ness, the final state of the input arrays, and the aliasing the caller can see
(which outputs are the same object or share memory with each other or with an input).
"""
from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
import pytest
from ember.ir import Graph, TensorMeta, format_graph, interpret, verify
from hypothesis import HealthCheck, settings

# Property tests run 300 examples; `pytest --hypothesis-profile=thorough` runs 5000.
settings.register_profile("default", settings.get_profile("ember"), max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", settings.get_profile("ember"), max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")

# Rewrites may change summation order (a reduction reading x instead of a copy of x laid out
# differently), so floats compare to a few units in the last place of their dtype.
RTOL = {"float16": 4e-3, "float32": 4e-6, "float64": 1e-13, "complex64": 4e-6, "complex128": 1e-13}


def make_value(meta: TensorMeta, rng: np.random.Generator) -> np.ndarray | np.generic:
    """Random values for ``meta`` (small non-negative ints, so no overflow or negative powers)."""
    kind = meta.dtype.kind
    if kind == "b":
        value = rng.integers(0, 2, meta.shape).astype(bool)
    elif kind in "iu":
        value = rng.integers(0, 4, meta.shape).astype(meta.dtype)
    elif kind == "c":
        value = (rng.standard_normal(meta.shape) + 1j * rng.standard_normal(meta.shape)).astype(meta.dtype)
    else:
        value = (rng.standard_normal(meta.shape) * 3).astype(meta.dtype)
    return value[()] if meta.is_scalar else np.asarray(value)


def inputs_for(graph: Graph, seed: int = 0) -> Callable[[], list]:
    """A factory of fresh, identical input values for ``graph`` (one call per run)."""
    return lambda: [make_value(n.meta, np.random.default_rng(seed + i)) for i, n in enumerate(graph.inputs)]


def run(graph: Graph, make_inputs: Callable[[], list]) -> tuple[list, list | BaseException]:
    inputs = make_inputs()
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return inputs, interpret(graph, inputs)
    except Exception as error:
        return inputs, error


def flatten(values: Any) -> list:
    if isinstance(values, tuple | list):
        return [leaf for value in values for leaf in flatten(value)]
    return [values]


def assert_values_equal(expected: Any, got: Any, what: str) -> None:
    assert type(got) is type(expected), f"{what}: {type(got).__name__}, expected {type(expected).__name__}"
    if isinstance(expected, tuple | list):
        assert len(got) == len(expected), what
        for i, (a, b) in enumerate(zip(expected, got, strict=True)):
            assert_values_equal(a, b, f"{what}[{i}]")
        return
    if not isinstance(expected, np.ndarray | np.generic):
        assert got == expected, f"{what}: {got!r}, expected {expected!r}"
        return
    assert TensorMeta.of(got) == TensorMeta.of(expected), f"{what}: {TensorMeta.of(got)} vs {TensorMeta.of(expected)}"
    rtol = RTOL.get(np.asarray(expected).dtype.name)
    if rtol is None:
        np.testing.assert_array_equal(got, expected, err_msg=what)
    else:
        np.testing.assert_allclose(got, cast(np.ndarray | np.inexact, expected),  # (RTOL's dtypes are inexact)
                                   rtol=rtol, atol=rtol, equal_nan=True, err_msg=what)


def visible_aliasing(inputs: Sequence[Any], outputs: Sequence[Any]) -> set[tuple]:
    """(i, j, relation) for every pair involving an output (nested ones flattened): "is"
    (the same object) or "shares" (overlapping memory)."""
    values = [("input", i, v) for i, v in enumerate(inputs)]
    values += [("output", i, v) for i, v in enumerate(flatten(outputs))]
    facts = set()
    for (kind_a, i, a), (kind_b, j, b) in itertools.combinations(values, 2):
        if kind_a == kind_b == "input":
            continue
        if a is b:
            facts.add((kind_a, i, kind_b, j, "is"))
        elif isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.shares_memory(a, b):
            facts.add((kind_a, i, kind_b, j, "shares"))
    return facts


def assert_same_behaviour(original: Graph, rewritten: Graph, make_inputs: Callable[[], list] | None = None) -> None:
    make_inputs = make_inputs or inputs_for(original)
    inputs_a, outputs_a = run(original, make_inputs)
    inputs_b, outputs_b = run(rewritten, make_inputs)
    if isinstance(outputs_a, BaseException):
        assert isinstance(outputs_b, type(outputs_a)), f"original raised {outputs_a!r}, rewritten gave {outputs_b!r}"
        return
    assert not isinstance(outputs_b, BaseException), f"rewritten raised {outputs_b!r}"
    assert len(outputs_b) == len(outputs_a)
    for i, (a, b) in enumerate(zip(outputs_a, outputs_b, strict=True)):
        assert_values_equal(a, b, f"output {i}")
    for i, (a, b) in enumerate(zip(inputs_a, inputs_b, strict=True)):
        assert_values_equal(a, b, f"input {i} after the run")
    assert visible_aliasing(inputs_b, outputs_b) == visible_aliasing(inputs_a, outputs_a)


@pytest.fixture(scope="session")
def same_behaviour() -> Callable[..., None]:
    """``same_behaviour(original, rewritten, make_inputs=None)``: see the module docstring."""
    return assert_same_behaviour


@pytest.fixture(scope="session")
def make_inputs() -> Callable[..., Callable[[], list]]:
    return inputs_for


def checked_pass(run_pass: Callable[[Graph], Graph], graph: Graph, make_inputs: Callable[[], list] | None = None
                 ) -> Graph:
    """``run_pass(graph)``, verified, with ``graph`` itself unchanged and behaving the same."""
    before = format_graph(graph)
    out = run_pass(graph)
    verify(out)
    assert format_graph(graph) == before, f"{run_pass.__name__} changed its input graph"
    assert_same_behaviour(graph, out, make_inputs)
    return out
