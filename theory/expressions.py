"""Parse user formulas into SymPy expressions without evaluating the text.

Users write schedules as text such as ``1 - kappa*t/sqrt(d)``. Passing that
text to ``eval``, ``sympify`` or ``parse_expr`` would run arbitrary Python,
because ``sympify`` calls ``eval``. This module parses the text with
``ast.parse(..., mode="eval")``, checks every node of the tree against a
whitelist, and only then builds the SymPy expression node by node.

Accepted syntax:

- numbers: ``int`` and ``float`` literals, converted to exact SymPy
  numbers read from the literal's digits (``0.1`` becomes ``1/10``);
- names: the keys of ``variables``, the constants ``pi`` and ``E`` (or
  ``e``), and ``κ`` as a spelling of ``kappa`` when ``kappa`` is a variable;
- unary ``+`` and ``-``, binary ``+ - * / **``, and ``^`` as power;
- calls by bare name with positional arguments of ``sqrt, exp, log, sin,
  cos, tan, sinh, cosh, tanh, atan, abs`` (or ``Abs``), ``min`` (or
  ``Min``) and ``max`` (or ``Max``).

Everything else raises :class:`ExpressionError` before any SymPy object is
built from the text.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

import sympy

__all__ = ["ExpressionError", "FUNCTION_NAMES", "parse_expression"]


class ExpressionError(ValueError):
    """Invalid formula text: a syntax error or a construct outside the whitelist."""


@dataclass(frozen=True)
class _Function:
    """A whitelisted function: its SymPy implementation and allowed arity."""

    build: Callable[..., sympy.Expr]
    min_args: int
    max_args: int | None  # None: any number of arguments


_FUNCTIONS: dict[str, _Function] = {
    "sqrt": _Function(sympy.sqrt, 1, 1),
    "exp": _Function(sympy.exp, 1, 1),
    # log(x) is the natural logarithm, log(x, b) the logarithm to base b.
    "log": _Function(sympy.log, 1, 2),
    "sin": _Function(sympy.sin, 1, 1),
    "cos": _Function(sympy.cos, 1, 1),
    "tan": _Function(sympy.tan, 1, 1),
    "sinh": _Function(sympy.sinh, 1, 1),
    "cosh": _Function(sympy.cosh, 1, 1),
    "tanh": _Function(sympy.tanh, 1, 1),
    "atan": _Function(sympy.atan, 1, 1),
    "abs": _Function(sympy.Abs, 1, 1),
    "Abs": _Function(sympy.Abs, 1, 1),
    "min": _Function(sympy.Min, 1, None),
    "Min": _Function(sympy.Min, 1, None),
    "max": _Function(sympy.Max, 1, None),
    "Max": _Function(sympy.Max, 1, None),
}

#: Names of the functions a formula may call.
FUNCTION_NAMES: tuple[str, ...] = tuple(_FUNCTIONS)

# Error messages list only the lowercase spellings, to stay short.
_LISTED_FUNCTIONS = ", ".join(name for name in FUNCTION_NAMES if name.islower())

_CONSTANTS: dict[str, sympy.Expr] = {"pi": sympy.pi, "E": sympy.E, "e": sympy.E}

_BINARY_OPERATORS: dict[type, Callable[[sympy.Expr, sympy.Expr], sympy.Expr]] = {
    ast.Add: lambda left, right: left + right,
    ast.Sub: lambda left, right: left - right,
    ast.Mult: lambda left, right: left * right,
    ast.Div: lambda left, right: left / right,
    ast.Pow: lambda left, right: left**right,
}

_UNARY_OPERATORS: dict[type, Callable[[sympy.Expr], sympy.Expr]] = {
    ast.UAdd: lambda operand: operand,
    ast.USub: lambda operand: -operand,
}

_OPERATOR_SYMBOLS: dict[type, str] = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.Not: "not",
    ast.Invert: "~",
}

# Readable names for the node types that users are most likely to write.
_NODE_DESCRIPTIONS: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript",
    ast.Slice: "slice",
    ast.Lambda: "lambda expression",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "generator expression",
    ast.IfExp: "conditional expression",
    ast.Compare: "comparison",
    ast.BoolOp: "boolean operator",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Set: "set",
    ast.Dict: "dict",
    ast.Starred: "starred argument",
    ast.NamedExpr: "assignment expression",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
}

# Node types that the validation pass lets through. Operators and the Load
# context appear as child nodes in ``ast.walk`` and are checked by their parent.
_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Load,
    ast.operator,
    ast.unaryop,
)

# Maximum of |exponent| times the bit length of the largest integer in the
# base, for a power with a numeric exponent. SymPy computes powers of numbers
# exactly, so '10**10**10' would otherwise exhaust memory.
_MAX_POWER_BITS = 2**16

# Error messages quote at most this many characters of the text.
_MAX_QUOTED_LENGTH = 60

_NON_FINITE = (sympy.zoo, sympy.nan, sympy.oo, sympy.S.NegativeInfinity)


def parse_expression(
    text: str,
    variables: Mapping[str, sympy.Symbol],
    *,
    max_length: int = 400,
) -> sympy.Expr:
    """Parse ``text`` into a SymPy expression in the given ``variables``.

    ``variables`` maps the names a formula may use to their symbols, e.g.
    ``{"t": t, "d": d, "kappa": kappa}``. The text is never evaluated as
    Python. It is parsed with ``ast.parse``, every node is checked against
    the whitelist in the module docstring, and the expression is then built
    with SymPy operations. ``^`` is read as ``**`` and has the precedence of
    ``**``, so ``t^2 + 1`` is ``t**2 + 1``.

    Raises ExpressionError when the text is empty, longer than
    ``max_length``, not valid syntax, uses a name, function or construct
    outside the whitelist, or contains a non-finite or non-real constant
    such as ``zoo`` (from ``1/0``), ``nan`` or ``I`` (from ``sqrt(-1)``).
    The message quotes the text and states the fix.
    """
    if not isinstance(text, str):
        raise TypeError(f"expression text must be a str, got {type(text).__name__}")
    _validate_variables(variables)

    if not text.strip():
        raise ExpressionError(
            "invalid expression: the text is empty. Write a formula such as '1 - t'."
        )
    if len(text) > max_length:
        raise ExpressionError(
            f"invalid expression {_quote(text)}: it has {len(text)} characters, "
            f"more than the maximum of {max_length}. Shorten the formula or "
            "split it into schedule pieces."
        )

    # '^' becomes '**' in the text rather than in the tree, because Python
    # gives '^' a lower precedence than '+' and would read 't^2 + 1' as
    # 't^(2 + 1)'.
    source = text.strip().replace("^", "**")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(
            f"invalid expression {_quote(text)}: it is not valid syntax "
            f"({error.msg}). Write a formula such as '1 - t' or 'kappa*t/sqrt(d)'."
        ) from error
    except (RecursionError, MemoryError) as error:
        raise ExpressionError(
            f"invalid expression {_quote(text)}: it is nested too deeply to "
            "parse. Simplify the formula."
        ) from error

    parser = _Parser(text, source, variables)
    parser.validate(tree)
    try:
        return parser.build(tree.body)
    except RecursionError as error:
        raise ExpressionError(
            f"invalid expression {_quote(text)}: it is nested too deeply to "
            "build. Simplify the formula."
        ) from error


def _validate_variables(variables: Mapping[str, sympy.Symbol]) -> None:
    for name, symbol in variables.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"variable name {name!r} is not a Python identifier")
        if name in _CONSTANTS or name in _FUNCTIONS:
            raise ValueError(
                f"variable name {name!r} clashes with a constant or function "
                "of the formula language. Rename the variable."
            )
        if not isinstance(symbol, sympy.Symbol):
            raise TypeError(
                f"variable {name!r} must map to a sympy.Symbol, "
                f"got {type(symbol).__name__}"
            )


def _quote(text: str) -> str:
    if len(text) > _MAX_QUOTED_LENGTH:
        text = text[: _MAX_QUOTED_LENGTH - 3] + "..."
    return repr(text)


class _Parser:
    """Validate the tree of one formula, then build its SymPy expression."""

    def __init__(self, text: str, source: str, variables: Mapping[str, sympy.Symbol]):
        self.text = text
        self.source = source
        self.variable_names = list(variables)
        self.names: dict[str, sympy.Expr] = dict(variables)
        if "kappa" in variables and "κ" not in variables:
            self.names["κ"] = variables["kappa"]
        for name, value in _CONSTANTS.items():
            self.names.setdefault(name, value)

    # -- messages -----------------------------------------------------------

    def _error(self, problem: str, fix: str) -> ExpressionError:
        return ExpressionError(
            f"invalid expression {_quote(self.text)}: {problem}. {fix}."
        )

    def _allowed_summary(self) -> str:
        listed = ", ".join([*self.variable_names, "pi", "E"])
        return f"Use only {listed} and the functions {_LISTED_FUNCTIONS}"

    def _segment(self, node: ast.AST) -> str:
        """Return the source text of ``node``, with '^' already read as '**'."""
        return ast.get_source_segment(self.source, node) or self.text

    def _reject_node(self, node: ast.AST) -> ExpressionError:
        described = _NODE_DESCRIPTIONS.get(type(node), f"{type(node).__name__} syntax")
        return self._error(
            f"{described} {_quote(self._segment(node))} is not allowed",
            self._allowed_summary(),
        )

    # -- validation pass ----------------------------------------------------

    def validate(self, tree: ast.Expression) -> None:
        """Raise ExpressionError on the first node outside the whitelist.

        ``ast.walk`` visits parents before children, so a call is seen before
        the name it calls, and that name is then accepted as a function name.
        """
        called_names: set[int] = set()
        for node in ast.walk(tree):
            if not isinstance(node, _ALLOWED_NODES):
                raise self._reject_node(node)
            if isinstance(node, ast.Constant):
                self._validate_constant(node)
            elif isinstance(node, (ast.BinOp, ast.UnaryOp)):
                self._validate_operator(node)
            elif isinstance(node, ast.Call):
                self._validate_call(node)
                called_names.add(id(node.func))
            elif isinstance(node, ast.Name) and id(node) not in called_names:
                self._validate_name(node)

    def _validate_constant(self, node: ast.Constant) -> None:
        value = node.value
        segment = self._segment(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kinds = {
                bool: "boolean",
                str: "string",
                bytes: "bytes",
                complex: "complex number",
            }
            kind = kinds.get(type(value), "constant")
            raise self._error(
                f"{kind} {_quote(segment)} is not allowed",
                "Use only real numbers such as 2 or 0.5",
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise self._error(
                f"the number {segment} is outside the float range",
                "Use a smaller number",
            )
        mantissa = re.split("[eE]", segment)[0]
        if isinstance(value, float) and value == 0.0 and re.search("[1-9]", mantissa):
            raise self._error(
                f"the number {segment} is too small for a float",
                "Write 0 or a larger number",
            )

    def _validate_operator(self, node: ast.BinOp | ast.UnaryOp) -> None:
        allowed = _BINARY_OPERATORS if isinstance(node, ast.BinOp) else _UNARY_OPERATORS
        if type(node.op) in allowed:
            return
        symbol = _OPERATOR_SYMBOLS.get(type(node.op), type(node.op).__name__)
        fix = "Use only + - * / and ** (or ^)"
        if isinstance(node, ast.UnaryOp):
            fix = "Use only unary + and -"
        raise self._error(f"operator {symbol!r} is not allowed", fix)

    def _validate_call(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name):
            if not isinstance(node.func, _ALLOWED_NODES):
                raise self._reject_node(node.func)
            raise self._error(
                f"the call {_quote(self._segment(node))} does not call a "
                "function by name",
                self._allowed_summary(),
            )
        name = node.func.id
        function = _FUNCTIONS.get(name)
        if function is None:
            raise self._error(
                f"function {name!r} is not allowed", self._allowed_summary()
            )
        if node.keywords:
            raise self._error(
                f"keyword arguments in the call of {name!r} are not allowed",
                f"Pass the arguments of {name} by position",
            )
        count = len(node.args)
        too_few = count < function.min_args
        too_many = function.max_args is not None and count > function.max_args
        if not (too_few or too_many):
            return
        if function.max_args is None:
            expected = f"at least {function.min_args}"
        elif function.min_args == function.max_args:
            expected = f"{function.min_args}"
        else:
            expected = f"{function.min_args} or {function.max_args}"
        raise self._error(
            f"{name} takes {expected} argument(s), got {count}",
            f"Call {name} with {expected} argument(s)",
        )

    def _validate_name(self, node: ast.Name) -> None:
        if node.id in self.names:
            return
        if node.id in _FUNCTIONS:
            raise self._error(
                f"function {node.id!r} is used without a call",
                f"Call it with an argument, e.g. {node.id}(t)",
            )
        raise self._error(f"name {node.id!r} is not allowed", self._allowed_summary())

    # -- build pass ---------------------------------------------------------

    def build(self, node: ast.AST) -> sympy.Expr:
        """Build the SymPy expression of a node that passed ``validate``."""
        if isinstance(node, ast.Constant):
            result = self._number(node)
        elif isinstance(node, ast.Name):
            result = self.names[node.id]
        elif isinstance(node, ast.UnaryOp):
            result = _UNARY_OPERATORS[type(node.op)](self.build(node.operand))
        elif isinstance(node, ast.BinOp):
            left = self.build(node.left)
            right = self.build(node.right)
            if isinstance(node.op, ast.Pow):
                self._check_power_size(node, left, right)
            result = _BINARY_OPERATORS[type(node.op)](left, right)
        elif isinstance(node, ast.Call):
            arguments = [self.build(argument) for argument in node.args]
            result = _FUNCTIONS[node.func.id].build(*arguments)
        else:
            # Unreachable after validate(); raising keeps a whitelist gap loud.
            raise self._reject_node(node)
        self._check_finite(node, result)
        return result

    def _number(self, node: ast.Constant) -> sympy.Expr:
        if isinstance(node.value, int):
            return sympy.Integer(node.value)
        # The literal's digits give the decimal the user wrote exactly, which
        # the float value may have rounded ('0.30000000000000001' -> 0.3).
        # validate() rejected floats that overflow or underflow, so the
        # decimal exponent is small and sympy.Rational is cheap.
        digits = self._segment(node).replace("_", "")
        try:
            return sympy.Rational(digits)
        except (TypeError, ValueError):
            return sympy.Rational(repr(node.value))

    def _check_power_size(
        self, node: ast.BinOp, base: sympy.Expr, exponent: sympy.Expr
    ) -> None:
        if not exponent.is_Number:
            return
        numbers = base.atoms(sympy.Rational)
        bits = max(
            [1]
            + [abs(int(number.p)).bit_length() for number in numbers]
            + [int(number.q).bit_length() for number in numbers]
        )
        if abs(exponent) * bits > _MAX_POWER_BITS:
            raise self._error(
                f"the power {_quote(self._segment(node))} is too large to "
                "compute exactly",
                "Use a smaller exponent or base",
            )

    def _check_finite(self, node: ast.AST, result: sympy.Expr) -> None:
        segment = _quote(self._segment(node))
        if result.has(*_NON_FINITE):
            raise self._error(
                f"{segment} evaluates to {result}, which is not finite "
                "(a division by zero or log(0), for example)",
                "Change the formula so that it stays finite",
            )
        if result.has(sympy.I):
            raise self._error(
                f"{segment} evaluates to {result}, which is not real",
                "Change the formula so that it stays real, for example by "
                "taking sqrt and log only of non-negative values",
            )
