"""Tests of flowphase.numerics.codegen.

The generated Numba backend is checked against the NumPy backend and
against SymPy evaluation at seeded random points, to 1e-12 relative.
"""

import hashlib
import inspect
import logging
import tempfile
import threading

import numpy as np
import pytest
import sympy as sp

from flowphase.numerics import codegen
from flowphase.numerics.codegen import generate_function, generate_rhs

RTOL = 1e-12
N_POINTS = 20

x, kappa, ell = sp.symbols("x kappa ell", real=True)
ARGS = (x, kappa, ell)

# Arguments are drawn with kappa in [0.5, 2], so log and sqrt stay real.
EXPRS = (
    kappa * sp.tanh(kappa * x + ell) * sp.exp(-(x**2) / 2) + sp.exp(-(x**2) / 2),
    sp.log(kappa) * sp.sqrt(kappa) + sp.erf(x) * sp.Rational(1, 3),
    sp.Abs(x) * sp.sign(x - ell) + sp.pi * sp.Float("0.1"),
    sp.Piecewise((x**2 + 1, x > 0), (sp.cos(x) + 2, True)),
    sp.exp(kappa * x) / (1 + sp.exp(kappa * x)) + 1,
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("codegen-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(codegen.CACHE_DIR_ENV, str(folder))
        yield folder


@pytest.fixture(scope="module")
def generated(cache_dir):
    return generate_function("sample", ARGS, EXPRS, doc="Test expressions.")


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(20241204)
    return np.column_stack(
        [
            rng.uniform(-2.0, 2.0, N_POINTS),
            rng.uniform(0.5, 2.0, N_POINTS),
            rng.uniform(-1.0, 1.0, N_POINTS),
        ]
    )


def sympy_values(exprs, symbols, point):
    values = dict(zip(symbols, point))
    return np.array([float(expr.evalf(30, subs=values)) for expr in exprs])


def numba_values(function, points):
    return np.array([function.numba(*point) for point in points])


def test_numba_matches_sympy(generated, points):
    expected = np.array([sympy_values(EXPRS, ARGS, point) for point in points])
    np.testing.assert_allclose(numba_values(generated, points), expected, rtol=RTOL)


def test_numpy_matches_numba(generated, points):
    with np.errstate(all="raise"):
        vectorized = np.column_stack(generated.numpy(*points.T))
    np.testing.assert_allclose(vectorized, numba_values(generated, points), rtol=RTOL)


def test_numpy_scalar_arguments(generated, points):
    outputs = generated.numpy(*points[0])
    assert all(np.shape(value) == () for value in outputs)


def test_constant_output_broadcasts(cache_dir):
    function = generate_function("constant", [x], [sp.Integer(3), x])
    outputs = function.numpy(np.zeros(4))
    assert outputs[0].shape == (4,)


def test_numba_returns_floats(cache_dir):
    function = generate_function("integer_output", [x], [sp.Integer(3)])
    assert function.numba(1.0) == (3.0,)


def test_cse_off_matches_on(generated, points):
    plain = generate_function("sample", ARGS, EXPRS, cse=False)
    assert plain.path != generated.path
    np.testing.assert_allclose(
        numba_values(plain, points), numba_values(generated, points), rtol=RTOL
    )


def test_args_keep_given_order(cache_dir, points):
    reordered = generate_function("reordered", (ell, x, kappa), EXPRS)
    assert reordered.args == ("ell", "x", "kappa")
    original = generate_function("original", ARGS, EXPRS)
    point = points[0]
    assert reordered.numba(point[2], point[0], point[1]) == original.numba(*point)


def test_docstring_lists_arguments(generated):
    doc = inspect.getdoc(generated.numba)
    assert "Arguments, in order (float64):\n    x\n    kappa\n    ell" in doc


def test_docstring_lists_outputs(generated):
    assert "out3 = Piecewise(" in inspect.getdoc(generated.numpy)


def test_output_names_in_docstring(cache_dir):
    function = generate_function(
        "named", [x], [x**2], output_names=["square"]
    )
    assert "square = x**2" in inspect.getdoc(function.numba)


def test_file_named_by_hash(generated):
    digest = hashlib.sha256(generated.source.encode()).hexdigest()[:16]
    assert generated.path.name == f"sample_{digest}.py"


def test_file_contains_source(generated):
    assert generated.path.read_text(encoding="utf-8") == generated.source


def test_source_names_versions(generated):
    assert f"sympy {sp.__version__}" in generated.source


def test_regeneration_reuses_file(generated):
    before = generated.path.stat().st_mtime_ns
    again = generate_function("sample", ARGS, EXPRS, doc="Test expressions.")
    assert again.path == generated.path
    assert again.path.stat().st_mtime_ns == before


def test_corrupt_file_rewritten(cache_dir):
    first = generate_function("corrupt", [x], [sp.tanh(x)])
    first.path.write_text(first.source[: len(first.source) // 2])
    second = generate_function("corrupt", [x], [sp.tanh(x)])
    assert second.path.read_text(encoding="utf-8") == first.source


def test_unreadable_file_rewritten(cache_dir):
    first = generate_function("binary", [x], [sp.exp(x)])
    first.path.write_bytes(b"\xff\xfe\x00broken")
    generate_function("binary", [x], [sp.exp(x)])
    assert first.path.read_text(encoding="utf-8") == first.source


def test_concurrent_writes_stay_whole(tmp_path):
    # Writers alternate between two large sources, so the file is replaced
    # many times while the reader reads it.
    path = tmp_path / "module.py"
    sources = ("A = 1\n" * 50000, "B = 2\n" * 50000)
    seen = []

    def write(offset):
        for index in range(20):
            codegen._ensure_file(path, sources[(index + offset) % 2])

    def read():
        for _ in range(200):
            if path.exists():
                seen.append(path.read_text())

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    torn = [len(text) for text in seen if text not in sources]
    assert torn == []


def test_no_temp_files_left(generated):
    assert list(generated.path.parent.glob("*.tmp")) == []


def test_unknown_symbol_raises(cache_dir):
    z = sp.Symbol("z")
    with pytest.raises(ValueError, match="free symbol 'z'"):
        generate_function("unknown", [x], [x + z])


def test_other_assumptions_named(cache_dir):
    plain_x = sp.Symbol("x")
    with pytest.raises(ValueError, match="other assumptions"):
        generate_function("assumptions", [x], [plain_x])


def test_repeated_arg_raises(cache_dir):
    with pytest.raises(ValueError, match="appears twice"):
        generate_function("repeated", [x, x], [x])


def test_undefined_function_raises(cache_dir):
    g = sp.Function("g")
    with pytest.raises(ValueError, match="undefined function"):
        generate_function("undefined", [x], [g(x)])


def test_complex_expression_raises(cache_dir):
    with pytest.raises(ValueError, match="imaginary unit"):
        generate_function("complex_valued", [x], [sp.I * x])


def test_invalid_name_raises(cache_dir):
    with pytest.raises(ValueError, match="invalid function name"):
        generate_function("not valid", [x], [x])


def test_piecewise_without_fallback_nan(cache_dir):
    function = generate_function("partial", [x], [sp.Piecewise((x, x > 0))])
    assert np.isnan(function.numba(-1.0)[0])


def test_sign_of_zero(cache_dir):
    function = generate_function("sign_zero", [x], [sp.sign(x)])
    assert function.numba(0.0) == (0.0,)


def test_float_keeps_all_digits(cache_dir):
    third = sp.Float(1.0 / 3.0)
    function = generate_function("third", [x], [third * x])
    assert function.numba(1.0) == (1.0 / 3.0,)


def test_keyword_symbol_renamed(cache_dir):
    lam = sp.Symbol("lambda")
    function = generate_function("keyword", [lam], [2 * lam])
    assert function.numba(1.5) == (3.0,)


def test_cache_dir_falls_back(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, so no folder can be created under it")
    monkeypatch.setenv(codegen.CACHE_DIR_ENV, str(blocker / "cache"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    with caplog.at_level(logging.WARNING, logger=codegen.__name__):
        folder = codegen.codegen_cache_dir()
    assert folder.parent == tmp_path / "tmp"
    assert "not writable" in caplog.text


# Right-hand sides -----------------------------------------------------------

t = sp.Symbol("t", real=True)
y, velocity = sp.symbols("y velocity", real=True)
omega, damping = sp.symbols("omega damping", positive=True)
STATES = (y, velocity)
PARAMS = (omega, damping)
RHS = (velocity, -(omega**2) * y - damping * velocity * sp.cos(t))


@pytest.fixture(scope="module")
def oscillator(cache_dir):
    return generate_rhs("oscillator", t, STATES, PARAMS, RHS, doc="Oscillator.")


def test_rhs_matches_sympy(oscillator, points):
    for point in points:
        state = point[:2]
        params = np.array([point[1], abs(point[2])])
        values = dict(zip((t, *STATES, *PARAMS), (point[0], *state, *params)))
        expected = [float(expr.evalf(30, subs=values)) for expr in RHS]
        actual = oscillator.numba(point[0], state.copy(), params)
        np.testing.assert_allclose(actual, expected, rtol=RTOL)


def test_rhs_numpy_matches_numba(oscillator):
    state = np.array([0.3, -1.2])
    params = np.array([1.5, 0.2])
    with np.errstate(all="raise"):
        reference = oscillator.numpy(0.7, state, params)
    np.testing.assert_allclose(
        oscillator.numba(0.7, state, params), reference, rtol=RTOL
    )


def test_rhs_numpy_vectorizes(oscillator):
    states = np.array([[0.3, 0.1, -2.0], [-1.2, 0.0, 0.5]])
    params = np.array([1.5, 0.2])
    result = oscillator.numpy(0.7, states, params)
    assert result.shape == (2, 3)


def test_rhs_names_in_order(oscillator):
    assert (oscillator.time, oscillator.states, oscillator.params) == (
        "t",
        ("y", "velocity"),
        ("omega", "damping"),
    )


def test_rhs_docstring_lists_states(oscillator):
    doc = inspect.getdoc(oscillator.numba)
    expected = "y contains the states, in order:\n    y (local name y_)\n    velocity"
    assert expected in doc


def test_rhs_wrong_length_raises(oscillator):
    with pytest.raises(ValueError, match="y must have 2 entries"):
        oscillator.numba(0.0, np.zeros(3), np.ones(2))


def test_rhs_other_time_symbol(cache_dir):
    tau = sp.Symbol("tau")
    rhs = generate_rhs("decay_tau", tau, [y], [], [-tau * y])
    assert rhs.numba(2.0, np.array([1.5]), np.zeros(0))[0] == -3.0


def test_rhs_unknown_symbol_raises(cache_dir):
    with pytest.raises(ValueError, match="free symbol 'kappa'"):
        generate_rhs("missing_param", t, [y], [], [kappa * y])


def test_rhs_length_mismatch_raises(cache_dir):
    with pytest.raises(ValueError, match="one derivative per state"):
        generate_rhs("mismatch", t, [y, velocity], [], [y])


def test_rhs_time_in_states_raises(cache_dir):
    with pytest.raises(ValueError, match="appears twice"):
        generate_rhs("time_twice", t, [t], [], [t])
