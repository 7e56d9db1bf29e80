"""Tests for the formula parser: accepted syntax, rejected syntax, messages."""

import builtins

import pytest
import sympy

from flowphase.theory.expressions import ExpressionError, parse_expression
from flowphase.theory.symbols import d, kappa, t

VARIABLES = {"t": t, "d": d, "kappa": kappa}

# Each formula next to the SymPy expression built directly, as the oracle.
ACCEPTED = [
    ("1 - t", 1 - t),
    ("  1 - t  ", 1 - t),
    ("kappa*t/sqrt(d)", kappa * t / sympy.sqrt(d)),
    ("κ*t", kappa * t),
    ("+t", t),
    ("-t", -t),
    ("(1 - t)*(1 + t)", (1 - t) * (1 + t)),
    ("t**2", t**2),
    ("t^2 + 1", t**2 + 1),
    ("-t^2", -(t**2)),
    ("2^3^2", sympy.Integer(512)),
    ("0.5*t", sympy.Rational(1, 2) * t),
    ("0.1", sympy.Rational(1, 10)),
    ("0.30000000000000001", sympy.Rational(30000000000000001, 10**17)),
    ("1e-3", sympy.Rational(1, 1000)),
    ("1_000", sympy.Integer(1000)),
    ("pi*t", sympy.pi * t),
    ("E**t", sympy.exp(t)),
    ("e*t", sympy.E * t),
    ("sqrt(t)", sympy.sqrt(t)),
    ("exp(-t)", sympy.exp(-t)),
    ("log(1 + t)", sympy.log(1 + t)),
    ("log(1 + t, 2)", sympy.log(1 + t, 2)),
    ("sin(t) + cos(t) + tan(t)", sympy.sin(t) + sympy.cos(t) + sympy.tan(t)),
    ("sinh(t)*cosh(t)*tanh(t)", sympy.sinh(t) * sympy.cosh(t) * sympy.tanh(t)),
    ("atan(t)", sympy.atan(t)),
    ("abs(t - 1)", sympy.Abs(t - 1)),
    ("Abs(t - 1)", sympy.Abs(t - 1)),
    ("min(t, 1/2)", sympy.Min(t, sympy.Rational(1, 2))),
    ("Min(t, d, 1)", sympy.Min(t, d, 1)),
    ("max(t, kappa)", sympy.Max(t, kappa)),
    ("Max(t, 0)", sympy.Max(t, 0)),
    ("(1 - kappa/sqrt(d))*(2 - t)", (1 - kappa / sympy.sqrt(d)) * (2 - t)),
]


@pytest.mark.parametrize(
    ("text", "expected"), ACCEPTED, ids=[text for text, _ in ACCEPTED]
)
def test_parse_accepted(text, expected):
    assert parse_expression(text, VARIABLES) == expected


def test_parse_uses_given_symbols():
    parsed = parse_expression("kappa", VARIABLES)
    assert parsed is kappa


def test_parse_kappa_symbol_is_positive():
    parsed = parse_expression("κ", VARIABLES)
    assert parsed.is_positive


def test_parse_never_calls_eval(monkeypatch):
    calls = []
    real_eval = builtins.eval
    real_exec = builtins.exec

    def spy_eval(*args, **kwargs):
        calls.append(("eval", args))
        return real_eval(*args, **kwargs)

    def spy_exec(*args, **kwargs):
        calls.append(("exec", args))
        return real_exec(*args, **kwargs)

    monkeypatch.setattr(builtins, "eval", spy_eval)
    monkeypatch.setattr(builtins, "exec", spy_exec)
    parse_expression("1 - kappa*t/sqrt(d) + log(1 + t, 2)", VARIABLES)
    assert calls == []


# Rejected formulas, each with an id naming the case.
REJECTED = [
    ("import_system", "__import__('os').system('echo owned')"),
    ("import_name", '__import__("os")'),
    ("dunder_class", "t.__class__"),
    ("attribute", "t.real"),
    ("subclasses", "().__class__.__bases__[0].__subclasses__()"),
    ("lambda_call", "(lambda: 1)()"),
    ("subscript", "[t][0]"),
    ("open", "open('x')"),
    ("eval_call", "eval('1')"),
    ("getattr", "getattr(t, '__class__')"),
    ("builtins_name", "__builtins__"),
    ("string", '"t"'),
    ("bytes", "b't'"),
    ("ellipsis", "..."),
    ("none", "None"),
    ("boolean", "True"),
    ("complex", "1j"),
    ("conditional", "t if t else 1"),
    ("comparison", "t < 1"),
    ("boolean_operator", "t and 1"),
    ("not", "not t"),
    ("invert", "~t"),
    ("floor_division", "t // 2"),
    ("modulo", "t % 2"),
    ("keyword_argument", "sqrt(t, x=1)"),
    ("starred_argument", "sqrt(*[t])"),
    ("walrus", "(t := 1)"),
    ("f_string", "f'{t}'"),
    ("list_comprehension", "[x for x in (1, 2)]"),
    ("generator", "sum(x for x in (1, 2))"),
    ("dict", "{t: 1}"),
    ("set", "{t}"),
    ("tuple", "(t, 1)"),
    ("unknown_name", "x + t"),
    ("function_without_call", "sqrt"),
    ("call_of_call", "sqrt(t)(t)"),
    ("too_few_arguments", "exp()"),
    ("too_many_arguments", "sqrt(t, t)"),
    ("log_three_arguments", "log(t, 2, 3)"),
    ("division_by_zero", "1/0"),
    ("zero_times_infinity", "0*(1/0)"),
    ("log_zero", "log(0)"),
    ("imaginary", "sqrt(-1)"),
    ("float_overflow", "1e400"),
    ("float_underflow", "1e-400"),
    ("huge_power", "10**10**10"),
    ("huge_power_caret", "(2*t)^(10^9)"),
    ("empty", ""),
    ("blank", "   "),
    ("too_long", "t+" * 200 + "t"),
    ("syntax_error", "t +"),
    ("statement", "import os"),
    ("null_byte", "t\x00"),
]


@pytest.mark.parametrize(
    "text", [text for _, text in REJECTED], ids=[case for case, _ in REJECTED]
)
def test_parse_rejected(text):
    with pytest.raises(ExpressionError):
        parse_expression(text, VARIABLES)


def test_parse_rejected_runs_no_shell(capfd):
    with pytest.raises(ExpressionError):
        parse_expression("__import__('os').system('echo owned')", VARIABLES)
    output = capfd.readouterr()
    assert "owned" not in output.out


def test_parse_rejected_writes_no_file(tmp_path):
    marker = tmp_path / "marker"
    texts = [
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w')",
        f"open('{marker}', 'w').write('x')",
        f"__import__('pathlib').Path('{marker}').touch()",
    ]
    for text in texts:
        with pytest.raises(ExpressionError):
            parse_expression(text, VARIABLES)
    assert not marker.exists()


def test_parse_error_is_value_error():
    assert issubclass(ExpressionError, ValueError)


def test_parse_unknown_name_message():
    with pytest.raises(ExpressionError) as caught:
        parse_expression("x + t", VARIABLES)
    message = str(caught.value)
    assert "'x + t'" in message
    assert "name 'x' is not allowed" in message
    assert "t, d, kappa, pi, E" in message
    assert "sqrt, exp" in message


def test_parse_import_message():
    with pytest.raises(ExpressionError) as caught:
        parse_expression('__import__("os")', VARIABLES)
    message = str(caught.value)
    assert "'__import__'" in message
    assert "is not allowed" in message


def test_parse_long_text_quote_truncated():
    text = "t+" * 200 + "t"
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, VARIABLES)
    message = str(caught.value)
    assert "..." in message
    assert text not in message
    assert "maximum of 400" in message


def test_parse_empty_message():
    with pytest.raises(ExpressionError) as caught:
        parse_expression("", VARIABLES)
    assert "empty" in str(caught.value)


def test_parse_division_by_zero_message():
    with pytest.raises(ExpressionError) as caught:
        parse_expression("t + 1/0", VARIABLES)
    message = str(caught.value)
    assert "'1/0'" in message
    assert "not finite" in message


def test_parse_max_length_option():
    with pytest.raises(ExpressionError):
        parse_expression("1 - t", VARIABLES, max_length=4)


def test_parse_max_length_allows_exact():
    assert parse_expression("1 - t", VARIABLES, max_length=5) == 1 - t


def test_parse_kappa_spelling_needs_variable():
    with pytest.raises(ExpressionError):
        parse_expression("κ*t", {"t": t})


def test_parse_restricted_variables():
    with pytest.raises(ExpressionError):
        parse_expression("d*t", {"t": t})


def test_parse_constants_without_variables():
    assert parse_expression("pi/4", {}) == sympy.pi / 4


def test_parse_text_must_be_str():
    with pytest.raises(TypeError):
        parse_expression(1.0, VARIABLES)


def test_parse_variable_clashes_constant():
    with pytest.raises(ValueError):
        parse_expression("pi", {"pi": t})


def test_parse_variable_must_be_symbol():
    with pytest.raises(TypeError):
        parse_expression("t", {"t": 1})
