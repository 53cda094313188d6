"""bench/gpu_check.py: its pure parts (importable without CuPy or a GPU, the table)."""
from __future__ import annotations

import numpy as np
from ember.bench.gpu_check import Row, bytes_moved, format_table


def test_bytes_moved_counts_array_arguments_and_results():
    x, y = np.zeros(10, np.float32), np.zeros(5, np.float64)
    assert bytes_moved([x, 0.5, y], x) == 40 + 40 + 40
    assert bytes_moved([x], (x, y)) == 40 + 40 + 40


def test_table_marks_targets_and_lists_failures():
    rows = [
        Row("softmax", True, eager_s=2e-3, compiled_s=1e-3, torch_s=1.5e-3, bytes_moved=int(2.4e12 * 1e-3)),
        Row("gelu", True, eager_s=1e-3, compiled_s=0.5e-3, bytes_moved=int(1e12 * 0.5e-3)),
        Row("mlp", True, eager_s=1e-3, compiled_s=2e-3, bytes_moved=1000, note="torch not installed"),
        Row("jacobi", False, "result: 3 of 9 values differ"),
    ]
    table = format_table(rows, "NVIDIA H100", 3e12)
    lines = table.splitlines()
    assert lines[0] == "GPU check on NVIDIA H100; measured copy bandwidth 3000 GB/s"
    assert lines[1].split() == ["workload", "check", "cupy", "ms", "ember", "ms", "speedup", "torch.compile", "ms",
                                "GB/s", "of", "copy", "target"]
    softmax = next(line for line in lines if line.startswith("softmax"))
    assert softmax.split() == ["softmax", "ok", "2.000", "1.000", "2.00x", "1.500", "2400", "80%", "met"]
    assert next(line for line in lines if line.startswith("gelu")).split()[-2:] == ["33%", "MISSED"]
    assert next(line for line in lines if line.startswith("mlp")).split()[-1] == "MISSED"
    assert next(line for line in lines if line.startswith("jacobi")).split()[:2] == ["jacobi", "FAIL"]
    assert "  jacobi: result: 3 of 9 values differ" in lines
    assert "  mlp: torch not installed" in lines


def test_table_without_a_copy_measurement():
    table = format_table([Row("tiny", True, eager_s=1e-5, compiled_s=2e-5)], "cpu", None)
    assert "not measured" in table.splitlines()[0]
    assert table.splitlines()[3].split()[-1] == "MISSED"
