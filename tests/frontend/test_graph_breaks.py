"""Graph breaks that resume: the captured prefix is compiled, CPython runs the breaking
instruction, and resume functions continue (compiled on their first call)."""
from __future__ import annotations

import ember
import numpy as np
import pytest


def run_both(fn, *args, capsys=None, backend="numpy", calls=2):
    """Eager and compiled on copies of args: same result, same input state, same output text."""
    copies = [tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args) for _ in range(calls + 1)]
    want = fn(*copies[0])
    printed_eager = capsys.readouterr().out if capsys else ""
    compiled = ember.compile(fn, backend=backend)
    for i in range(calls):
        got = compiled(*copies[i + 1])
        if capsys:
            assert capsys.readouterr().out == printed_eager, "compiled printed something else"
        _assert_equal(got, want)
        for mine, theirs in zip(copies[i + 1], copies[0], strict=True):
            if isinstance(mine, np.ndarray):
                np.testing.assert_allclose(mine, theirs, rtol=1e-6)
    return compiled


def _assert_equal(got, want):
    assert type(got) is type(want), (type(got), type(want))
    if isinstance(want, tuple | list):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _assert_equal(g, w)
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for key in want:
            _assert_equal(got[key], want[key])
    elif isinstance(want, np.ndarray | np.generic):
        assert got.dtype == want.dtype and np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-6)
    else:
        assert got == want


def report(fn, *args):
    return ember.explain(fn)(*(a.copy() if isinstance(a, np.ndarray) else a for a in args))


def graph_ops(rep) -> str:
    return "\n".join(rep.graphs)


def test_print_in_the_middle_compiles_both_sides(capsys, backend):
    def f(x):
        y = np.tanh(x) * 1.1
        print("between", y.shape)
        return np.exp(y) + 1.0

    run_both(f, np.linspace(-1, 1, 7), capsys=capsys, backend=backend)
    rep = report(f, np.linspace(-1, 1, 7))
    capsys.readouterr()
    assert rep.graph_count == 2 and rep.break_count == 1
    assert "builtins.print" in rep.breaks[0].reason and rep.breaks[0].loc.lineno > 0
    assert "tanh" in rep.graphs[0] and "exp" in rep.graphs[1]


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_data_dependent_branch_both_ways(sign, backend):
    def f(x):
        x = np.tanh(x) * 1.1
        if x.sum() > 0:
            x = x - 1.0
        else:
            x = x + 2.0
        return x * 2.0

    compiled = run_both(f, sign * np.ones(5), backend=backend)
    rep = report(f, sign * np.ones(5))
    # the prefix, the branch taken, and the other branch if an earlier test compiled it
    # (resume functions are shared by every function object with this code)
    assert rep.graph_count in (2, 3) and rep.break_count == 1
    assert "branching on an array" in rep.breaks[0].reason
    assert len(compiled.entries) == 1


def test_while_loop_on_array_condition(backend):
    def f(x):
        while x.max() > 0.5:
            x = x * 0.5
        return x

    run_both(f, np.array([3.0, 1.0, 0.1]), backend=backend)


@pytest.mark.parametrize("convert", ["float", "item", "int_argmax", "bool"])
def test_conversions_to_python_values(convert, backend):
    def f(x):
        s = x.sum()
        if convert == "float":
            v = float(s)
        elif convert == "item":
            v = s.item() if isinstance(s, np.ndarray) else x.max().item()
        elif convert == "int_argmax":
            v = int(x.argmax())
        else:
            v = bool(x.any())
        return x * 2.0 + v, v

    run_both(f, np.array([0.5, 2.0, 1.5]), backend=backend)


def test_unknown_library_call_and_disabled_function(capsys, backend):
    import json

    @ember.disable
    def log(value):
        print("log", value)

    def f(x):
        y = x + 1
        text = json.dumps({"n": int(y.shape[0])})
        log(text)
        return y * len(text)

    run_both(f, np.ones(4), capsys=capsys, backend=backend)
    capsys.readouterr()
    rep = report(f, np.ones(4))
    capsys.readouterr()
    assert rep.break_count >= 2 and rep.graph_count >= 2


def _inner(y):
    y = y + 1.0
    print("inner")
    return y * 3.0


def _middle(y):
    z = np.sqrt(y)
    w = _inner(z)
    return w - z


def test_breaks_inside_nested_calls_compile_both_sides(capsys, backend):
    def f(x):
        a = np.exp(x)
        b = _middle(a)
        return b / a

    run_both(f, np.linspace(0, 1, 5), capsys=capsys, backend=backend)
    rep = report(f, np.linspace(0, 1, 5))
    capsys.readouterr()
    text = graph_ops(rep)
    for op in ("exp", "sqrt", "add", "multiply", "subtract", "divide"):
        assert f"= {op}(" in text, op


def test_print_inside_a_thousand_iteration_loop_compiles_the_body_once(capsys, backend):
    def f(x):
        for i in range(1000):
            x = np.tanh(x) * 1.1
            print(i) if False else None
            print("step", end="")
        return x

    compiled = run_both(f, np.linspace(-1, 1, 6), capsys=capsys, backend=backend)
    capsys.readouterr()
    for child in compiled.children:
        assert len(child.entries) == 1, "a resume function was retraced"
    rep = report(f, np.linspace(-1, 1, 6))
    capsys.readouterr()
    assert rep.graph_count >= 1 and "tanh" in graph_ops(rep)
    assert max(rep.ops_per_graph) < 20, "the loop was unrolled into one graph"


def test_long_time_step_loop_is_not_unrolled(backend):
    def f(u):
        for _ in range(500):
            u[1:-1] = u[1:-1] + 0.1 * (u[2:] - 2 * u[1:-1] + u[:-2])
        return u

    compiled = run_both(f, np.sin(np.linspace(0, 3, 32)), backend=backend)
    rep = report(f, np.sin(np.linspace(0, 3, 32)))
    assert max(rep.ops_per_graph) < 30
    assert all(len(c.entries) == 1 for c in compiled.children)


def test_many_live_locals_and_values_on_the_stack(capsys, backend):
    def f(a, b, c, d):
        e, g, h = a + 1, b * 2, [c, d]
        total = a * 2.0 + float(b.sum()) * (c - d) + e
        out = (g, print("mid", len(h)), h[0] + h[1] + total)
        return out[0] + out[2], {"e": e, "h": h}

    run_both(f, np.ones(3), np.arange(3.0), np.full(3, 2.0), np.ones(3), capsys=capsys, backend=backend)


def test_break_inside_a_comprehension(backend):
    def f(xs):
        values = [float(v.sum()) for v in xs]
        return xs[0] * values[1] + values[0]

    run_both(f, [np.ones(3), np.arange(3.0)], backend=backend)


def test_keyword_arguments_and_closures_across_the_break(capsys, backend):
    scale = 3.0

    def f(x, *, shift=1.0, **options):
        y = x * scale + shift
        print("opts", sorted(options))
        return y - scale * options.get("extra", 0.0)

    run_both(f, np.ones(3), capsys=capsys, backend=backend)
    compiled = ember.compile(f, backend=backend)
    np.testing.assert_allclose(compiled(np.ones(3), shift=2.0, extra=1.0), f(np.ones(3), shift=2.0, extra=1.0))
    capsys.readouterr()


def test_exceptions_after_a_break_are_eagers(capsys, backend):
    def f(x):
        y = x * 2
        print("before")
        return y[10]

    compiled = ember.compile(f, backend=backend)
    with pytest.raises(IndexError) as got:
        compiled(np.ones(3))
    with pytest.raises(IndexError) as want:
        f(np.ones(3))
    assert str(got.value) == str(want.value)
    assert capsys.readouterr().out == "before\nbefore\n"


def test_mutations_around_breaks_happen_once(capsys, backend):
    def helper(y):
        y += 1.0
        print("helper")
        y *= 2.0
        return y

    def f(x):
        x += 1.0
        print("top")
        helper(x)
        x[0] = -1.0
        return x

    run_both(f, np.ones(4), capsys=capsys, backend=backend)


def test_fullgraph_raises_at_the_first_break():
    def f(x):
        y = x + 1
        print("no")
        return y

    with pytest.raises(ember.GraphBreakError, match=r"test_graph_breaks.py:\d+.*print"):
        ember.compile(f, fullgraph=True)(np.ones(2))


def test_graph_break_marker_splits(backend):
    def f(x):
        y = np.cos(x)
        ember.graph_break()
        return np.sin(y)

    run_both(f, np.ones(3), backend=backend)
    rep = report(f, np.ones(3))
    assert rep.graph_count == 2 and "graph_break" in rep.breaks[0].reason


def test_break_inside_try_runs_the_frame_eagerly(capsys):
    def f(x):
        try:
            print("inside")
            return x + 1
        except ValueError:
            return x

    run_both(f, np.ones(2), capsys=capsys)
    rep = report(f, np.ones(2))
    capsys.readouterr()
    assert rep.graph_count == 0 and rep.break_count == 1


def test_resume_functions_are_shared_between_calls_and_entries(capsys):
    def f(x):
        y = x * 2
        print("x")
        return y + 1

    compiled = ember.compile(f)
    compiled(np.ones(3))
    compiled(np.ones(4))  # a new shape: a new entry for f, and for the resume function
    compiled(np.ones(3))
    capsys.readouterr()
    assert len(compiled.entries) == 2
    assert len(compiled.children) == 1 and len(compiled.children[0].entries) == 2


@pytest.mark.parametrize("body, reason", [
    ("(x * 2.0)[[True, False, True, False], 1:3] + 1.0", "advanced indexing with a sequence"),  # a slice on the stack
    ("(x * 2.0).var(mean=x.mean()) + 1.0", "np.var with mean="),          # a bound method on the stack
    ("[x * 2.0, x].pop(np.unique(x).size - 20)", "numpy.unique"),      # a list method
])
def test_a_break_in_the_middle_of_a_call_keeps_the_graph_before_it(body, reason, backend):
    namespace: dict = {"np": np}
    exec(f"def f(x):\n    return {body}\n", namespace)
    f = namespace["f"]
    x = np.random.default_rng(0).standard_normal((4, 5))
    run_both(f, x, backend=backend)
    rep = report(f, x)
    assert rep.break_count >= 1 and reason in str(rep)
    assert rep.graph_count >= 1 and "multiply" in graph_ops(rep)


NAMES_OF_GENERATED_CODE = ["graph_out", "next_item", "call_result", "failure", "call", "artifact", "Resume",
                           "Failed", "guard", "held", "next_args", "G", "C", "K0", "t0", "type", "len", "next",
                           "iter", "format", "float32", "ndarray", "list_iterator", "may_share_memory", "call_",
                           "out", "item", "error_state", "quiet_error_state", "steps_without_python"]


@pytest.mark.parametrize("name", NAMES_OF_GENERATED_CODE)
def test_parameters_named_like_the_generated_codes_own_names(name, capsys, backend):
    """Guards and wrappers are generated Python functions whose parameters are the frame's: a
    parameter named like one of their own locals, globals or builtins (``out``, ``item``,
    ``call``, ``type``, ``G``...) is renamed there, never shadowing it (a Python float named
    ``out`` was once replaced by the graph's outputs: a wrong result)."""
    namespace: dict = {"np": np}
    exec(f"def f(x, {name}, {name}_):\n"
         f"    y = x * 2.0 + {name}\n"
         f"    print('break')\n"
         f"    for i in range(70):\n"
         f"        y = y + {name}_\n"
         f"        print(i, end='')\n"
         f"    return y + {name} * 0.5, {name}\n", namespace)
    compiled = run_both(namespace["f"], np.ones(3), 1.5, 0.25, capsys=capsys, backend=backend)
    assert all(len(child.entries) == 1 for child in compiled.children)


def test_closures_of_one_function_do_not_share_resume_functions(capsys, backend):
    """Resume functions read the globals and closure cells of the function they continue: two
    closures of one code object (a factory's functions), or equal code exec'd in two namespaces,
    each get their own (the second once ran with the first's captured scale: [2, 2] for [20, 20])."""
    def make(scale):
        def f(x):
            y = x * 2.0
            print("break")
            return y * scale
        return f

    for scale in (1.0, 10.0, -3.0):
        run_both(make(scale), np.ones(3), capsys=capsys, backend=backend)
    for offset in (1.0, 5.0):
        namespace: dict = {"np": np, "OFFSET": offset}
        exec("def g(x):\n    y = x + 1.0\n    print('break')\n    return y + OFFSET\n", namespace)
        run_both(namespace["g"], np.ones(3), capsys=capsys, backend=backend)


WHILE_LOOPS = {
    "counter": "    i = 0\n    while i < n:\n        x = x * 0.5 + 1.0\n        i += 1\n    return x, i\n",
    "nested": ("    i = 0\n    while i < n:\n        j = 0\n        while j < 3:\n            x = x - 0.1 * j\n"
               "            j += 1\n        i += 1\n    return x\n"),
    "break": ("    i = 0\n    while True:\n        x = np.tanh(x) + 0.5\n        i += 1\n        if i >= n:\n"
              "            break\n    return x * 2.0\n"),
    "else": ("    i = n\n    while i > 0:\n        x = x + 0.5\n        i -= 1\n"
             "    else:\n        x = x * 2.0\n    return x\n"),
    "index": "    i = 1\n    while i < n:\n        x[i] = x[i - 1] * 0.5 + x[i]\n        i += 1\n    return x\n",
}


@pytest.mark.parametrize("n", [0, 5, 64, 65, 300])
@pytest.mark.parametrize("name", sorted(WHILE_LOOPS))
def test_while_loops_long_and_short(name, n, backend):
    """A while loop is unrolled for at most 64 rounds, like a for loop; past that, the next
    breakable instruction splits the frame and the body runs as a resume function that splits
    again where the loop comes round (one round per call, run by its own wrapper), so a long
    loop neither unrolls into thousands of nodes (a 3000-round loop once took 32 s to compile)
    nor recompiles per value of its counter (CPython runs the test that reads it). A Python
    float the body accumulates (``total += 0.5``) is still read as a number, and pinned."""
    namespace: dict = {"np": np}
    exec(f"def f(x, n):\n{WHILE_LOOPS[name]}", namespace)
    x = np.linspace(-1.0, 1.0, 310)
    compiled = run_both(namespace["f"], x, n, backend=backend)
    assert all(len(child.entries) <= 4 for child in compiled.children), \
        [(child._function.__name__, len(child.entries)) for child in compiled.children]
    rep = report(namespace["f"], x, n)
    assert max(rep.ops_per_graph, default=0) <= 66 * 5 + 8, "the loop was unrolled past the limit"  # (5 per round)


@pytest.mark.parametrize("inner", [3, 7])
def test_a_break_inside_nested_loops_hands_each_loop_its_own_iterator(inner, capsys, backend):
    """At a break inside nested loops both iterators go back to CPython as ``iter([...rest])``;
    each rest is a list made while rebuilding, named by its id: one freed too early lent its id
    to the other's, and both loops got the outer one's rest (36 rounds for 35)."""
    def f(x):
        for _ in range(5):
            for j in range(inner):
                x = x + 1.0
                if j == 2:
                    print("", end="")
        return x

    run_both(f, np.zeros(3), capsys=capsys, backend=backend)


def _grow(items):
    items.append(10)


def _add_key(table):
    table["new"] = 1.0


def test_a_loop_over_a_list_goes_on_over_that_list_after_a_break(capsys, backend):
    """The iterator handed to CPython at a break is the list's own, at the same place: what the
    call at the break appends, the loop sees (an argument's list and one made while tracing)."""
    def f(x, items):
        made = [1.0, 2.0]
        for v in items:
            x = x + v
            if len(items) < 3:
                _grow(items)  # a list from outside, changed: a break
        for v in made:
            x = x * v
            print(v)
            if len(made) < 3:
                _grow(made)
        return x, made

    items = [1.0, 2.0]
    run_both(f, np.zeros(3), items, capsys=capsys, backend=backend, calls=1)
    got_items = [1.0, 2.0]
    ember.compile(f, backend=backend)(np.zeros(3), got_items)
    assert got_items == [1.0, 2.0, 10]


@pytest.mark.parametrize("made_here", [True, False])
def test_a_dict_changed_at_a_break_inside_a_loop_over_it_raises(made_here, backend):
    def f(x, table):
        table = {"a": 1.0, "b": 2.0} if made_here else table
        for key in table:
            x = x + table[key]
            _add_key(table)
        return x

    for fn in (f, ember.compile(f, backend=backend)):
        with pytest.raises(RuntimeError, match="dictionary changed size during iteration"):
            fn(np.zeros(3), {"a": 1.0, "b": 2.0})


def test_loops_stop_unrolling_once_the_graph_is_large(backend):
    """A loop stops unrolling once the graph holds LOOP_GRAPH_BUDGET operations (a 40 x 40
    nested loop compiled for 9.4 s, unrolled into 3200 operations): its other rounds run in
    CPython with the body compiled, and the values are eager's."""
    from ember.frontend.tracer import LOOP_GRAPH_BUDGET

    def f(x):
        for _ in range(40):
            for _ in range(40):
                x = x * 0.999 + 0.001
        return x

    run_both(f, np.linspace(0.0, 1.0, 7), backend=backend)
    rep = report(f, np.linspace(0.0, 1.0, 7))
    assert rep.break_count >= 1 and max(rep.ops_per_graph) <= LOOP_GRAPH_BUDGET + 2


def _relax_while(x, n):
    i = 0
    while i < n:
        x = x * 0.5 + 1.0
        i += 1
    return x


def _relax_nested(x):
    for _ in range(40):
        for _ in range(40):
            x = x * 0.999 + 0.001
    return x


@pytest.mark.parametrize("helper, args", [(_relax_while, (300,)), (_relax_while, (20,)), (_relax_nested, ())])
def test_loops_in_inlined_functions_are_bounded_too(helper, args, backend):
    """A called function's while loop past the unroll limit, or loops past the graph budget, are
    not unrolled into the caller's graph (300 rounds: 601 operations, 1.4 s to compile): the call
    breaks, and the function, compiled on its own, splits its loop."""
    from ember.frontend.tracer import LOOP_GRAPH_BUDGET

    def f(x):
        return helper(x, *args) * 2.0

    run_both(f, np.linspace(0.0, 1.0, 7), backend=backend)
    rep = report(f, np.linspace(0.0, 1.0, 7))
    assert max(rep.ops_per_graph) <= LOOP_GRAPH_BUDGET + 2
    assert (rep.break_count == 0) == (args == (20,))


def test_a_loop_that_cannot_split_unrolls_past_the_graph_budget(backend):
    """Inside a try block the frame cannot split, so the budget does not stop the loop there: it
    unrolls and compiles as before, rather than running the whole frame eagerly."""
    def f(x):
        try:
            for _ in range(30):
                for _ in range(20):
                    x = x + 0.5
        except ValueError:
            pass
        return x

    run_both(f, np.zeros(3), backend=backend)
    rep = report(f, np.zeros(3))
    assert rep.graph_count == 1 and rep.break_count == 0


class _Box:
    def __init__(self, k, other=0):
        self.k, self.other = k, other


COUNTER = 1


def _bump():
    global COUNTER
    COUNTER += 1
    return 0


def test_a_value_read_before_a_break_keeps_the_value_it_had(backend):
    """Values the trace read from an attribute, a global or an item are handed on as read, not
    read again after the breaking instruction, which may assign them (``old = o.k; o.k = ...``;
    swaps; a call that bumps a global); eager's ``old`` is the value before."""
    def from_attribute(o, x):
        old = o.k
        o.k = old + 10
        return x * old

    def swap(o, x):
        o.k, o.other = o.other, o.k
        return x * o.k

    def from_global(x):
        before = COUNTER
        return x * before, _bump(), COUNTER

    def from_item(items, x):
        first = items[0]
        items[0] = first + 5
        return x * first

    global COUNTER
    for f, args in ((from_attribute, lambda: (_Box(1), np.ones(2))), (swap, lambda: (_Box(2, 3), np.ones(2))),
                    (from_global, lambda: (np.ones(2),)), (from_item, lambda: ([4, 1], np.ones(2)))):
        compiled = ember.compile(f, backend=backend)
        for _ in range(3):
            COUNTER = 1
            mine, theirs = args(), args()
            want = f(*theirs)
            COUNTER = 1
            _assert_equal(compiled(*mine), want)
            assert [vars(a) if isinstance(a, _Box) else a for a in mine[:-1]] == \
                [vars(a) if isinstance(a, _Box) else a for a in theirs[:-1]]


def test_containers_computed_from_constants_are_new_each_call(backend):
    """``sorted(items)`` and ``a + b`` of two lists computed while tracing are lists of this call:
    the caller may keep and change them, and the trace's own ``append`` runs once per call."""
    def returned(x, items):
        return x + 1.0, sorted(items), items + [7], "a,b".split(",")

    def appended(x, items):
        s = sorted(items)
        s.append(0)
        return s, x * len(s)

    def as_set(x, items):
        return x * len(set(items)), set(items)

    for f in (returned, appended, as_set):
        compiled = ember.compile(f, backend=backend)
        first = compiled(np.ones(2), [3, 1])
        for part in first:
            if isinstance(part, list | set):
                part.clear()
        _assert_equal(compiled(np.ones(2), [3, 1]), f(np.ones(2), [3, 1]))


class Base:
    def scale(self, x):
        return x + 1


class Derived(Base):
    def scale(self, x):
        return super().scale(x) * 2


def test_zero_argument_super_in_an_inlined_method(backend):
    """super() finds its class and instance in the frame calling it: the method runs in a frame of its
    own (the caller splits at the call), not called from Ember's wrapper."""
    def f(model, x):
        return model.scale(x) + 1

    run_both(f, Derived(), np.ones(3), backend=backend)


K = 3.0


@pytest.mark.parametrize("body", ["x * globals()['K']", "x * len(locals())", "x * eval('K')", "x * len(dir())"])
def test_builtins_that_read_their_frame_run_in_it(body, backend):
    namespace = {"np": np, "K": K}
    exec(f"def f(x):\n    y = x + 1\n    return {body}\n", namespace)
    run_both(namespace["f"], np.ones(3), backend=backend)
    rep = report(namespace["f"], np.ones(3))
    assert rep.graph_count == 0 and "reads the frame" in rep.breaks[0].reason


class _Printing(Base):
    def scale(self, x):
        print("in _Printing.scale")  # a graph break inside a method that uses super()
        return super().scale(x) * 2.0


@pytest.mark.parametrize("body", ["sorted(locals())", "eval('a + b')", "x * len(vars())"])
def test_a_frame_that_reads_itself_is_not_split_at_a_break(body, capsys, backend):
    """After a graph break the code runs in a resume function, whose frame holds only the locals
    it needs and no __class__ cell: a function that reads its own frame (locals(), eval(), vars(),
    super()) runs eagerly at a break instead (locals() gave ['__ember_stack0', 'b', 'x'])."""
    namespace = {"np": np}
    exec(f"def f(x, a):\n    b = a + 1\n    print('break')\n    return {body}\n", namespace)
    run_both(namespace["f"], np.ones(3), 2, capsys=capsys, backend=backend)

    def g(model, x):
        return model.scale(x) + 1

    run_both(g, _Printing(), np.ones(3), capsys=capsys, backend=backend)
    run_both(_Printing().scale, np.ones(3), capsys=capsys, backend=backend)


class _Model:
    def eval(self, x):
        return x * 3.0


def test_a_method_named_like_a_frame_reader_does_not_stop_a_split(capsys, backend):
    """``model.eval(y)`` is an attribute, not the builtin: the frame still splits at its break."""
    def f(model, x):
        y = x * 2.0
        print("break")
        return model.eval(y) + 1.0

    run_both(f, _Model(), np.ones(3), capsys=capsys, backend=backend)
    assert report(f, _Model(), np.ones(3)).graph_count == 2


@pytest.mark.parametrize("callee", [False, True])
def test_a_dropped_closure_takes_its_resume_functions_and_callees_along(callee):
    """Resume functions (and user functions called at a break) are shared while some compiled
    function calls them, not kept for the life of the process with the closure's cells."""
    import gc
    import weakref

    def make():
        table = np.ones(4)

        def helper(y):
            print(end="")  # a break in the callee too
            return y + table

        def fn(x):
            y = x * 2.0
            if callee:
                return helper(y)
            print(end="")  # a break: the rest is a resume function holding the cell
            return y + table
        return fn, weakref.ref(table)

    fn, table = make()
    compiled = ember.compile(fn, backend="numpy")
    np.testing.assert_array_equal(compiled(np.ones(4)), np.full(4, 3.0))
    assert table() is not None
    del fn, compiled
    gc.collect()
    assert table() is None


@pytest.mark.parametrize("rounds", [100, 3])
def test_a_break_in_a_function_whose_loop_jumps_to_an_extended_argument(rounds, backend, capsys):
    """A loop body of more than ~255 instructions jumps back to an EXTENDED_ARG prefix, which
    the liveness analysis of a break once could not find (KeyError, raised to the user)."""
    namespace: dict = {"np": np}
    body = "        x = x + 1.0; x = x * 0.5; x = x + 1.0; x = x * 0.5; x = x + 1.0; x = x * 0.5\n" * 12
    exec(f"def f(x, n):\n    print('start')\n    for i in range(n):\n{body}    return x\n", namespace)
    run_both(namespace["f"], np.arange(4.0), rounds, capsys=capsys, backend=backend)
    # A data-dependent branch over such a body, and a while loop around one (on 3.12 and 3.13 the
    # prefix offsets reach the break's plan through the resume function's offsets too).
    rising = "        x = x + 1.5\n" * 150
    exec(f"def g(x, n):\n    if x.sum() > n:\n{body}    return x\n"
         f"def h(x, n):\n    while x.sum() < n * 100:\n{rising}    return x\n", namespace)
    run_both(namespace["g"], np.arange(4.0), rounds, backend=backend)
    run_both(namespace["h"], np.arange(4.0), rounds, backend=backend)
