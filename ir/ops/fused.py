"""Ops that passes make out of a recognised pattern of other ops; never written by the frontend.

``attention(q, kt, v, scale=c, scale_op="multiply")`` is ``softmax(q @ kt * c, axis=-1) @ v``
written the way NumPy users write it (passes/attention.py matches it). With a fourth argument,
a mask applied to the scaled scores before the softmax: ``mask_op="add"`` adds it (``s + mask``),
``"keep_where"`` is ``np.where(mask, s, fill)`` and ``"fill_where"`` ``np.where(mask, fill, s)``
(a causal mask). Its reference runs
exactly those NumPy steps, so the interpreter and every backend without a fused kernel for it
give eager's values; the LLVM backend runs it as one kernel (codegen/llvm/attention.py).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..meta import TensorMeta
from .extern import matmul_shape
from .probing import probe, result_meta, tiny_stand_in
from .registry import Op, OpKind, register

MASK_OPS = ("add", "keep_where", "fill_where")


def attention_reference(q: Any, kt: Any, v: Any, mask: Any = None, *, scale: float | None = None,
                        scale_op: str | None = None, mask_op: str | None = None, fill: float | None = None) -> Any:
    """NumPy's steps for ``softmax(mask(q @ kt <scale_op> scale)) @ v``, one by one as eager runs them."""
    s = np.matmul(q, kt)
    if scale_op is not None:
        assert scale is not None  # the pass sets both or neither
        s = np.multiply(s, scale) if scale_op == "multiply" else np.divide(s, scale)
    if mask_op == "add":
        s = np.add(s, mask)
    elif mask_op is not None:
        s = np.where(mask, s, fill) if mask_op == "keep_where" else np.where(mask, fill, s)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return np.matmul(e / e.sum(axis=-1, keepdims=True), v)


def _infer_attention(q: TensorMeta, kt: TensorMeta, v: TensorMeta, mask: TensorMeta | None = None,
                     **kwargs: Any) -> TensorMeta:
    scores = matmul_shape(q.shape, kt.shape)
    if mask is not None and np.broadcast_shapes(mask.shape, scores) != tuple(scores):
        raise ValueError(f"attention: a mask of shape {mask.shape} does not fit scores of shape {scores}")
    shape = matmul_shape(scores, v.shape)
    args = (q, kt, v) if mask is None else (q, kt, v, mask)
    return result_meta(shape, probe(attention_reference, args, kwargs, tiny_stand_in))


register(Op("attention", OpKind.EXTERN, attention_reference, _infer_attention,
            doc="softmax(q @ kt * scale, axis=-1) @ v, made by passes/attention.py"))
