"""``ember bench --warm-start``: a new interpreter imports Ember and compiles one workload."""
from __future__ import annotations

import subprocess
import sys

from ember.bench.warm_start import _CHILD, format_warm_starts, measure_warm_start


def test_a_new_process_reports_its_import_and_first_call():
    start = measure_warm_start("tiny", 1.0)
    assert start.error is None
    assert 0 < start.import_s < 60 and 0 < start.compile_s < start.first_call_s < 60
    assert "tiny" in format_warm_starts([start]) and "compile" in format_warm_starts([start])


def test_a_failing_child_is_reported_not_raised():
    start = measure_warm_start("no_such_workload", 1.0)
    assert start.first_call_s is None and "exit 1" in start.error and "no_such_workload" in start.error
    assert "n/a: exit 1" in format_warm_starts([start])


def test_the_child_starts_with_nothing_of_ember_imported():
    code = "import sys; print(any(m.split('.')[0] == 'ember' for m in sys.modules))"
    probe = _CHILD.split("start = time.perf_counter()")[0] + code
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "False"
