"""Compile generated kernels ahead of time for an NVIDIA architecture, without a GPU.

Triton's interpreter runs the kernels' Python, which is far more lenient than Triton's
compiler (types of constants, supported dtypes of math functions, ...). This checks that
each kernel of an artifact also compiles to a cubin for ``sm_<arch>``, as it must on a
real GPU. It needs a process in which triton was imported *without* the interpreter flag
(tests run it in a subprocess).

>>> compile_for_gpu(artifact, arch=90)      # doctest: +SKIP
{'k0': 4180}                                 # kernel name -> size of its PTX text
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .launch import Launcher, load_module

POINTER_TYPES = {
    "bool": "*i1", "int8": "*i8", "int16": "*i16", "int32": "*i32", "int64": "*i64", "uint8": "*u8",
    "uint16": "*u16", "uint32": "*u32", "uint64": "*u64", "float16": "*fp16", "float32": "*fp32",
    "float64": "*fp64",
}


class _SignatureOnly:
    interpret = False
    programs = 0
    whole_rows = 0

    def carrier(self, value: Any) -> Any:  # pragma: no cover - never called
        raise RuntimeError("signature-only device")


def compile_for_gpu(artifact: Any, arch: int = 90) -> dict[str, int]:
    """Compile every kernel of ``artifact`` for ``sm_<arch>``; returns PTX sizes by kernel."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    module = load_module(artifact.module_text, interpret=False, cache_dir=artifact.cache_dir)
    sizes = {}
    for source in artifact.sources:
        launcher = Launcher(source, None, _SignatureOnly())
        signature: dict[str, str] = {}
        for op in source.operands:
            signature[f"p{op.index}"] = POINTER_TYPES[np.dtype(op.dtype).name]
            signature[f"o{op.index}"] = "i64"
            for param in op.stride_params():
                signature[param] = "i64"
        for axis in range(len(source.kernel.domain)):
            signature[f"n{axis}"] = "i64"
        constexprs: dict[str, Any] = dict(launcher.blocks)
        if source.reduction:
            signature.update({"ROWS": "i64", "COLS": "i64", "BLOCK_R": "constexpr", "BLOCK_C": "constexpr"})
        else:
            signature.update({"N": "i64", "CONTIG": "constexpr", "BLOCK": "constexpr"})
            constexprs["CONTIG"] = True
        variants = [(source.name, signature, constexprs)]
        if source.reduction:
            variants.append((f"{source.name}_rows", signature, constexprs))
        if source.partials:  # split mode's two kernels: the scratch arrays and the split come after COLS
            head = dict(list(signature.items())[:-2])
            scratch = {f"q{i}": POINTER_TYPES[np.dtype(d).name] for i, d in enumerate(source.partials)}
            blocks = {"BLOCK_R": "constexpr", "BLOCK_C": "constexpr"}
            variants += [(f"{source.name}_partial", {**head, **scratch, "SPLIT": "i64", "CHUNK": "i64", **blocks},
                          constexprs),
                         (f"{source.name}_combine", {**head, **scratch, "SPLIT": "i64", "SPLIT_P2": "constexpr",
                                                     **blocks}, {**constexprs, "SPLIT_P2": 64})]
        for name, kernel_signature, kernel_constexprs in variants:
            compiled = triton.compile(ASTSource(getattr(module, name), signature=kernel_signature,
                                                constexprs=kernel_constexprs),
                                      target=GPUTarget("cuda", arch, 32),
                                      options={"enable_fp_fusion": False, **launcher.options_for_compile()})
            sizes[name] = len(compiled.asm["ptx"])
    return sizes
