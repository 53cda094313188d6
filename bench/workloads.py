"""The benchmark workloads: plain NumPy functions, written the way a user would write them.

Each workload is a module-level function (so a bytecode tracer sees ordinary globals such as
``np``) with an input factory at the sizes of issue 4. ``scale`` shrinks or grows the inputs so
tests can run small versions; it multiplies the element count of the scaled axes:

- 1-D inputs: the length (``elementwise``, ``black_scholes``, ``l2norm``, ``with_break``);
- 2-D inputs: the rows, never the row length, so reductions along rows keep their shape
  (``gelu``, ``softmax``, ``layernorm``, ``jacobi``);
- ``mlp``: batch and hidden width, each by ``sqrt(scale)`` (the model width stays 1024);
- ``attention``: the batch, then the sequence length once the batch is down to 1;
- ``tiny``: never scaled; it measures per-call overhead on 100 elements.

Inputs come from ``np.random.default_rng(seed)``: the same scale and seed give the same arrays.

>>> wl = get_workload("softmax")
>>> args = wl.make_inputs(scale=1 / 1024)
>>> wl.fn(*args).shape
(4, 2048)
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# --- the workloads (user code: keep it plain) ---------------------------------------------


def elementwise(x, y):
    return np.sin(x) * np.cos(y) + x * y * 0.5


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def layernorm(x, w, b):  # the example in ember.compile's docstring
    mu = x.mean(axis=-1, keepdims=True)
    d = x - mu
    return d / np.sqrt((d * d).mean(axis=-1, keepdims=True) + 1e-5) * w + b


def mlp(x, w1, b1, w2, b2):
    return np.maximum(x @ w1 + b1, 0.0) @ w2 + b2


def attention(q, k, v):
    s = q @ k.transpose(0, 2, 1) * 0.125
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    return p @ v


def normal_cdf(d):
    # Abramowitz and Stegun 26.2.17: |error| < 7.5e-8.
    k = 1.0 / (1.0 + 0.2316419 * np.abs(d))
    poly = k * (0.319381530 + k * (-0.356563782 + k * (1.781477937 + k * (-1.821255978 + k * 1.330274429))))
    w = 1.0 - 0.3989422804014327 * np.exp(-0.5 * d * d) * poly
    return np.where(d < 0, 1.0 - w, w)


def black_scholes(s, k, t, r, v):
    sqrt_t = np.sqrt(t)
    d1 = (np.log(s / k) + (r + 0.5 * v * v) * t) / (v * sqrt_t)
    d2 = d1 - v * sqrt_t
    return s * normal_cdf(d1) - k * np.exp(-r * t) * normal_cdf(d2)


def l2norm(x):
    return np.sqrt((x * x).sum())


def jacobi(a):
    return 0.2 * (a[1:-1, 1:-1] + a[:-2, 1:-1] + a[2:, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:])


def with_break(x):
    x = np.tanh(x) * 1.1
    x = np.tanh(x) * 1.1
    x = np.tanh(x) * 1.1
    if x.sum() > 0:
        x = x - 1.0
    return x * 2.0


def tiny(x, y):
    return (x + y) * 2.0 - np.exp(x)


# --- inputs -------------------------------------------------------------------------------

M = 1 << 20  # "8M" in issue 4 means 8 * 2**20 elements


def _scaled(n: int, factor: float, minimum: int = 1) -> int:
    return max(minimum, round(n * factor))


def _normal(rng: np.random.Generator, shape: tuple[int, ...], dtype: str, mean: float = 0.0,
            std: float = 1.0) -> np.ndarray:
    """One random input; tests replace it to check full-scale shapes without allocating."""
    return rng.normal(mean, std, size=shape).astype(dtype)


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], dtype: str, low: float,
             high: float) -> np.ndarray:
    return rng.uniform(low, high, size=shape).astype(dtype)


def _elementwise_inputs(scale: float = 1.0, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    n = _scaled(8 * M, scale)
    return _normal(rng, (n,), "float32"), _normal(rng, (n,), "float32")


def _gelu_inputs(scale: float = 1.0, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    return (_normal(rng, (_scaled(4096, scale), 4096), "float32"),)


def _softmax_inputs(scale: float = 1.0, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    return (_normal(rng, (_scaled(4096, scale), 2048), "float32", std=3.0),)


def _layernorm_inputs(scale: float = 1.0, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    x = _normal(rng, (_scaled(4096, scale), 2048), "float32", mean=0.5, std=2.0)
    return x, _normal(rng, (2048,), "float32", mean=1.0, std=0.1), _normal(rng, (2048,), "float32", std=0.1)


def _mlp_inputs(scale: float = 1.0, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    batch, width, hidden = _scaled(1024, scale**0.5), 1024, _scaled(4096, scale**0.5)
    return (
        _normal(rng, (batch, width), "float32"),
        _normal(rng, (width, hidden), "float32", std=width**-0.5),
        _normal(rng, (hidden,), "float32", std=0.1),
        _normal(rng, (hidden, width), "float32", std=hidden**-0.5),
        _normal(rng, (width,), "float32", std=0.1),
    )


def _attention_inputs(scale: float = 1.0, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    batch = _scaled(8, scale)
    seq = 512 if batch > 1 or scale * 8 >= 1 else _scaled(512, scale * 8, minimum=2)
    return tuple(_normal(rng, (batch, seq, 64), "float32") for _ in range(3))


def _black_scholes_inputs(scale: float = 1.0, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    n = _scaled(4 * M, scale)
    price = _uniform(rng, (n,), "float64", 5.0, 30.0)
    strike = _uniform(rng, (n,), "float64", 1.0, 100.0)
    years = _uniform(rng, (n,), "float64", 0.25, 10.0)
    return price, strike, years, 0.02, 0.30  # riskless rate and volatility: Python floats


def _l2norm_inputs(scale: float = 1.0, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    return (_normal(rng, (_scaled(16 * M, scale),), "float32"),)


def _jacobi_inputs(scale: float = 1.0, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    return (_normal(rng, (_scaled(4096, scale, minimum=3), 4096), "float64"),)


def _with_break_inputs(scale: float = 1.0, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    # A positive mean keeps x.sum() far from 0, so rounding cannot flip the branch.
    return (_normal(rng, (_scaled(4 * M, scale, minimum=16),), "float32", mean=0.5),)


def _tiny_inputs(scale: float = 1.0, seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    return _normal(rng, (100,), "float32"), _normal(rng, (100,), "float32")


# --- the registry -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workload:
    """One benchmark: a NumPy function, its input factory and what the table calls it.

    ``make_inputs(scale=1.0, seed=0)`` returns the positional arguments of ``fn``.
    ``rtol``/``atol`` override the harness's per-dtype tolerances where a workload needs
    it; ``tolerance_note`` says why.

    >>> wl = get_workload("tiny")
    >>> wl.fn(*wl.make_inputs()).dtype
    dtype('float32')
    """

    name: str
    fn: Callable[..., Any]
    make_inputs: Callable[..., tuple[Any, ...]]
    description: str
    rtol: float | None = None
    atol: float | None = None
    tolerance_note: str = ""


WORKLOADS: tuple[Workload, ...] = (
    Workload("elementwise", elementwise, _elementwise_inputs,
             "np.sin(x) * np.cos(y) + x * y * 0.5; x, y: 8M f32"),
    Workload("gelu", gelu, _gelu_inputs, "tanh GELU with x*x*x; (4096, 4096) f32"),
    Workload("softmax", softmax, _softmax_inputs, "row softmax, max-subtracted; (4096, 2048) f32"),
    Workload("layernorm", layernorm, _layernorm_inputs,
             "row layer norm with weight and bias, eps 1e-5; (4096, 2048) f32"),
    Workload("mlp", mlp, _mlp_inputs,
             "relu(x @ w1 + b1) @ w2 + b2; x (1024, 1024), w1 (1024, 4096), w2 (4096, 1024) f32",
             rtol=1e-3, atol=1e-4,
             tolerance_note="sums of 1024 and 4096 products: BLAS blocking changes the rounding"),
    Workload("attention", attention, _attention_inputs,
             "softmax(q @ k^T * 0.125) @ v; q, k, v (8, 512, 64) f32",
             rtol=1e-3, atol=1e-5, tolerance_note="two matmuls and a row softmax in float32"),
    Workload("black_scholes", black_scholes, _black_scholes_inputs,
             "call price, closed form with a polynomial normal CDF and np.where; 4M f64"),
    Workload("l2norm", l2norm, _l2norm_inputs, "np.sqrt((x * x).sum()); 16M f32",
             rtol=1e-3, tolerance_note="a sum of 16M float32 values: NumPy sums pairwise, "
             "a compiled kernel in another order"),
    Workload("jacobi", jacobi, _jacobi_inputs, "5-point stencil on slices; (4096, 4096) f64"),
    Workload("with_break", with_break, _with_break_inputs,
             "3 x tanh steps, data-dependent if (graph break), x * 2.0; 4M f32"),
    Workload("tiny", tiny, _tiny_inputs, "(x + y) * 2.0 - np.exp(x); 100 f32 (per-call overhead)"),
)

DEMO_WORKLOADS: tuple[str, ...] = ("softmax", "layernorm", "gelu", "tiny")


def get_workload(name: str) -> Workload:
    """The workload called ``name``; a ``KeyError`` lists the valid names."""
    for workload in WORKLOADS:
        if workload.name == name:
            return workload
    raise KeyError(f"no workload {name!r}; choose from {', '.join(w.name for w in WORKLOADS)}")


def select_workloads(names: Sequence[str] | None) -> list[Workload]:
    """The named workloads in the order given, or all of them for ``None``."""
    if not names:
        return list(WORKLOADS)
    return [get_workload(name) for name in names]
