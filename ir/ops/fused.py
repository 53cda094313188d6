"""Ops that passes make out of a recognised pattern of other ops; never written by the frontend.

``attention(q, kt, v, scale=c, scale_op="multiply")`` is ``softmax(q @ kt * c, axis=-1) @ v``
written the way NumPy users write it (passes/attention.py matches it). Its reference runs
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


def attention_reference(q: Any, kt: Any, v: Any, scale: float | None = None, scale_op: str | None = None) -> Any:
    """NumPy's steps for ``softmax(q @ kt <scale_op> scale) @ v``, one by one as eager runs them."""
    s = np.matmul(q, kt)
    if scale_op is not None:
        assert scale is not None  # the pass sets both or neither
        s = np.multiply(s, scale) if scale_op == "multiply" else np.divide(s, scale)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return np.matmul(e / e.sum(axis=-1, keepdims=True), v)


def _infer_attention(q: TensorMeta, kt: TensorMeta, v: TensorMeta, scale: float | None = None,
                     scale_op: str | None = None) -> TensorMeta:
    shape = matmul_shape(matmul_shape(q.shape, kt.shape), v.shape)
    return result_meta(shape, probe(attention_reference, (q, kt, v, scale, scale_op), {}, tiny_stand_in))


register(Op("attention", OpKind.EXTERN, attention_reference, _infer_attention,
            doc="softmax(q @ kt * scale, axis=-1) @ v, made by passes/attention.py"))
