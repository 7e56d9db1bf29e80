"""Generate Numba and NumPy functions from SymPy expressions.

Numba's ``cache=True`` needs a function defined in a real source file, so
functions made by ``exec`` (which includes ``sympy.lambdify`` output) are
compiled again in every process. This module prints the expressions as
Python source, writes the source into a cache folder under a file name that
contains a SHA-256 prefix of the source, and imports that file.

Each generated module defines two functions from the same ``sympy.cse``
output:

- ``<name>``: ``numba.njit(cache=True)``, scalar ``math`` calls;
- ``<name>_numpy``: plain Python with NumPy (and ``scipy.special``) calls,
  which broadcasts over arrays and is the reference backend in tests.

The source header names the versions of flowphase, SymPy, Numba and NumPy,
so the hash, and with it the file name, changes when any of them changes.

The cache folder is ``$FLOWPHASE_CACHE_DIR`` if set, else
``~/.cache/flowphase/codegen``. When that folder is not writable the module
logs a warning and uses a private folder under ``tempfile.gettempdir()``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import keyword
import logging
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numba
import numpy
import sympy
from sympy.core.function import AppliedUndef
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.pycode import PythonCodePrinter

import flowphase

__all__ = [
    "GeneratedFunction",
    "GeneratedRHS",
    "codegen_cache_dir",
    "generate_function",
    "generate_rhs",
]

logger = logging.getLogger(__name__)

CACHE_DIR_ENV = "FLOWPHASE_CACHE_DIR"

# Names that the generated source uses itself, so no symbol may print as one.
_RESERVED_NAMES = frozenset(
    {"math", "numba", "numpy", "scipy", "float", "abs", "min", "max"}
)
_RHS_RESERVED_NAMES = _RESERVED_NAMES | {"t", "y", "params", "dydt", "shape"}
_CSE_PREFIX = "_cse"
_DOC_EXPR_CHARS = 200

# Integers beyond 2**53 are printed as floats, because Numba's int64
# overflows above 2**63 and float arithmetic rounds them to float64 anyway.
_MAX_EXACT_INT = 2**53


@dataclass(frozen=True)
class GeneratedFunction:
    """Scalar function generated from SymPy expressions.

    ``numba(a1, a2, ...)`` returns a tuple of floats, one per expression.
    ``numpy`` takes the same arguments as arrays, broadcasts them, and
    returns a tuple of float64 arrays.
    """

    name: str
    args: tuple[str, ...]
    outputs: tuple[str, ...]
    numba: Callable
    numpy: Callable
    source: str
    path: Path

    def __call__(self, *args):
        return self.numba(*args)


@dataclass(frozen=True)
class GeneratedRHS:
    """Right-hand side ``dy/dt = f(t, y, params)`` generated from SymPy.

    ``numba(t, y, params)`` takes a float ``t`` and float64 arrays ``y``
    (states in the order of ``states``) and ``params`` (in the order of
    ``params``), and returns a new float64 array of length ``len(states)``.
    ``numpy`` has the same signature. It also accepts ``y`` of shape
    ``(n_states, ...)`` and then returns an array of that shape.
    """

    name: str
    time: str
    states: tuple[str, ...]
    params: tuple[str, ...]
    numba: Callable
    numpy: Callable
    source: str
    path: Path

    def __call__(self, t, y, params):
        return self.numba(t, y, params)


class _SymbolNamesMixin:
    """Print each known symbol under its assigned Python identifier."""

    def __init__(self, symbol_names: dict[sympy.Symbol, str]):
        super().__init__({"fully_qualified_modules": True, "strict": True})
        self._symbol_names = symbol_names

    def _print_Symbol(self, expr):
        if expr in self._symbol_names:
            return self._symbol_names[expr]
        return super()._print_Symbol(expr)

    def _print_Integer(self, expr):
        if abs(int(expr)) > _MAX_EXACT_INT:
            return repr(float(expr))
        return str(int(expr))

    def _print_Rational(self, expr):
        if max(abs(expr.p), expr.q) > _MAX_EXACT_INT:
            return repr(float(expr))
        return f"({expr.p}/{expr.q})"

    def _print_Float(self, expr):
        # The default printer keeps 15 digits and so loses the last bits.
        value = float(expr)
        if math.isfinite(value):
            return repr(value)
        if math.isnan(value):
            return self._print(sympy.nan)
        return self._print(sympy.oo if value > 0 else -sympy.oo)


class _MathPrinter(_SymbolNamesMixin, PythonCodePrinter):
    """Python printer whose output Numba compiles in nopython mode."""

    def _print_Piecewise(self, expr):
        # SymPy prints a missing fallback branch as ``None``, which Numba
        # cannot unify with a float. A NaN matches the NumPy printer.
        if expr.args[-1].cond != sympy.true:
            expr = sympy.Piecewise(*expr.args, (sympy.nan, True))
        return super()._print_Piecewise(expr)

    def _print_sign(self, expr):
        # SymPy's default uses copysign, which maps NaN to +-1.
        arg = self._print(expr.args[0])
        return (
            f"(1.0 if ({arg}) > 0 else (-1.0 if ({arg}) < 0 else 0.0 * ({arg})))"
        )


class _NumPyPrinter(_SymbolNamesMixin, SciPyPrinter):
    """SciPy printer with NumPy constants, for the reference backend."""

    def _print_Pi(self, expr):
        return self._module_format("numpy.pi")

    def _print_ComplexInfinity(self, expr):
        return self._module_format("numpy.nan")


def codegen_cache_dir() -> Path:
    """Return the writable folder for generated modules, creating it.

    Logs a warning and falls back to a private folder under
    ``tempfile.gettempdir()`` when the configured folder is not writable.
    """
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        folder = Path(configured).expanduser()
    else:
        folder = Path.home() / ".cache" / "flowphase" / "codegen"

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
        return folder
    except OSError as error:
        fallback = _private_temp_dir()
        logger.warning(
            "codegen cache folder %s is not writable (%s), so generated "
            "modules go to %s. Set %s to a writable folder to keep compiled "
            "code between runs.",
            folder,
            error,
            fallback,
            CACHE_DIR_ENV,
        )
        return fallback


def _private_temp_dir() -> Path:
    """Return a temp folder that only the current user can write to."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return Path(tempfile.mkdtemp(prefix="flowphase-codegen-"))

    folder = Path(tempfile.gettempdir()) / f"flowphase-codegen-{getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        folder_stat = folder.stat()
    except OSError:
        return Path(tempfile.mkdtemp(prefix="flowphase-codegen-"))

    # Another user could have created the shared name to plant modules.
    if folder_stat.st_uid != getuid() or folder_stat.st_mode & 0o022:
        return Path(tempfile.mkdtemp(prefix="flowphase-codegen-"))
    return folder


def generate_function(
    name: str,
    args: Sequence[sympy.Symbol],
    exprs: Sequence[sympy.Expr],
    *,
    doc: str = "",
    output_names: Sequence[str] | None = None,
    cse: bool = True,
) -> GeneratedFunction:
    """Generate ``name(*args) -> tuple of floats`` from ``exprs``.

    Arguments keep the order of ``args``. ``output_names`` label the
    outputs in the generated docstring (default ``out0``, ``out1``, ...).
    With ``cse=False`` each expression is printed whole.

    Raises ValueError if ``name`` is not a Python identifier, if ``args``
    repeats a symbol, or if an expression is not a real scalar expression
    of ``args`` alone.
    """
    _check_name(name)
    args = _check_symbols("args", args)
    exprs = _check_exprs(exprs, args)
    output_names = _check_output_names(output_names, len(exprs))

    symbol_names = _identifier_map(args, _RESERVED_NAMES)
    assignments, outputs = _common_subexpressions(exprs, cse)
    arg_list = ", ".join(symbol_names[symbol] for symbol in args)

    docstring = _function_docstring(doc, args, symbol_names, output_names, exprs)
    numba_body = _scalar_body(assignments, outputs, _MathPrinter(symbol_names))
    numpy_printer = _NumPyPrinter(symbol_names)
    numpy_body = _array_body(assignments, outputs, numpy_printer, arg_list)

    functions = _backend_definitions(
        name,
        arg_list,
        docstring,
        (numba_body, numpy_body),
        "the arguments may be arrays that broadcast together.",
    )
    module, path, source = _load_generated(name, functions, numpy_printer)
    return GeneratedFunction(
        name=name,
        args=tuple(symbol.name for symbol in args),
        outputs=tuple(output_names),
        numba=getattr(module, name),
        numpy=getattr(module, f"{name}_numpy"),
        source=source,
        path=path,
    )


def generate_rhs(
    name: str,
    time: sympy.Symbol,
    states: Sequence[sympy.Symbol],
    params: Sequence[sympy.Symbol],
    rhs: Sequence[sympy.Expr],
    *,
    doc: str = "",
    cse: bool = True,
) -> GeneratedRHS:
    """Generate ``name(t, y, params) -> dydt`` for ``dy/dt = rhs``.

    ``rhs[i]`` is the derivative of ``states[i]``. The generated function
    reads ``y[i]`` as ``states[i]`` and ``params[j]`` as ``params[j]``,
    keeping the given orders, and raises ValueError when ``y`` or
    ``params`` has the wrong length.

    Raises ValueError if a symbol repeats across time, states and params,
    if ``rhs`` and ``states`` differ in length, or if an expression has a
    free symbol outside them.
    """
    _check_name(name)
    states = _check_symbols("states", states)
    params = _check_symbols("params", params)
    _check_symbols("time, states and params", [time, *states, *params])
    rhs = _check_exprs(rhs, [time, *states, *params])
    if len(rhs) != len(states):
        raise ValueError(
            f"rhs has {len(rhs)} expressions but there are {len(states)} "
            "states. Give one derivative per state, in the order of states."
        )

    symbol_names = _identifier_map([*states, *params], _RHS_RESERVED_NAMES)
    symbol_names[time] = "t"
    assignments, outputs = _common_subexpressions(rhs, cse)

    docstring = _rhs_docstring(doc, time, states, params, symbol_names, rhs)
    unpack = _unpack_lines(states, params, symbol_names)
    numba_printer = _MathPrinter(symbol_names)
    numpy_printer = _NumPyPrinter(symbol_names)
    numba_body = unpack + _rhs_body(assignments, outputs, numba_printer, None)
    shape_args = ["t", *(symbol_names[s] for s in [*states, *params])]
    numpy_body = unpack + _rhs_body(
        assignments, outputs, numpy_printer, shape_args
    )

    functions = _backend_definitions(
        name,
        "t, y, params",
        docstring,
        (numba_body, numpy_body),
        f"y may have shape ({len(states)}, ...), and dydt then has that shape.",
    )
    module, path, source = _load_generated(name, functions, numpy_printer)
    return GeneratedRHS(
        name=name,
        time=time.name,
        states=tuple(symbol.name for symbol in states),
        params=tuple(symbol.name for symbol in params),
        numba=getattr(module, name),
        numpy=getattr(module, f"{name}_numpy"),
        source=source,
        path=path,
    )


# Input checks -------------------------------------------------------------


def _check_name(name: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ValueError(
            f"invalid function name {name!r}. Use a Python identifier that "
            "is not a keyword and does not start with '_'."
        )


def _check_symbols(label: str, symbols: Sequence[sympy.Symbol]) -> list:
    symbols = list(symbols)
    for symbol in symbols:
        if not isinstance(symbol, sympy.Symbol):
            raise ValueError(
                f"{label} must contain sympy Symbols, got {symbol!r} of type "
                f"{type(symbol).__name__}."
            )

    seen = set()
    for symbol in symbols:
        if symbol in seen:
            raise ValueError(f"symbol {symbol.name!r} appears twice in {label}.")
        seen.add(symbol)
    return symbols


def _check_exprs(exprs, known: Sequence[sympy.Symbol]) -> list[sympy.Expr]:
    """Sympify ``exprs`` and check that each is a real scalar of ``known``."""
    exprs = [sympy.sympify(expr) for expr in exprs]
    if not exprs:
        raise ValueError("exprs is empty. Give at least one expression.")

    known_set = set(known)
    for index, expr in enumerate(exprs):
        if not isinstance(expr, sympy.Expr) or isinstance(expr, sympy.MatrixBase):
            raise ValueError(
                f"expression {index} ({expr}) is a {type(expr).__name__}, "
                "not a scalar sympy.Expr."
            )
        if expr.has(sympy.I):
            raise ValueError(
                f"expression {index} ({expr}) contains the imaginary unit, "
                "but generated functions return real floats."
            )

        undefined = sorted(expr.atoms(AppliedUndef), key=str)
        if undefined:
            raise ValueError(
                f"expression {index} contains the undefined function "
                f"{undefined[0]}. Replace it by an explicit expression."
            )
        unknown = sorted(expr.free_symbols - known_set, key=lambda s: s.name)
        if unknown:
            raise ValueError(_unknown_symbol_message(index, unknown[0], known))
    return exprs


def _unknown_symbol_message(index, symbol, known) -> str:
    names = ", ".join(s.name for s in known)
    message = (
        f"expression {index} has the free symbol {symbol.name!r}, which is "
        f"not among the arguments ({names}). Add it to the arguments or "
        "substitute a value."
    )
    if any(s.name == symbol.name for s in known):
        message += (
            f" An argument is also named {symbol.name!r} but has other "
            "assumptions, so SymPy treats the two as different symbols."
        )
    return message


def _check_output_names(output_names, n_outputs: int) -> list[str]:
    if output_names is None:
        return [f"out{index}" for index in range(n_outputs)]

    output_names = [str(label) for label in output_names]
    if len(output_names) != n_outputs:
        raise ValueError(
            f"output_names has {len(output_names)} entries for {n_outputs} "
            "expressions. Give one name per expression."
        )
    return output_names


def _identifier_map(symbols, reserved) -> dict[sympy.Symbol, str]:
    """Map each symbol to a distinct Python identifier close to its name."""
    names = {}
    used = set(reserved)
    for symbol in symbols:
        candidate = re.sub(r"\W", "_", symbol.name) or "arg"
        if candidate[0].isdigit() or candidate.startswith("_"):
            candidate = "a" + candidate
        while keyword.iskeyword(candidate) or candidate in used:
            candidate += "_"
        names[symbol] = candidate
        used.add(candidate)
    return names


# Source generation --------------------------------------------------------


def _common_subexpressions(exprs, cse: bool):
    """Return ``(assignments, outputs)``, with CSE if ``cse`` is true.

    NOTE: CSE can lift a subexpression out of a Piecewise branch, so it is
    then evaluated for every input. Such a lifted term can overflow or
    return NaN where its branch is not taken. That only matters in the
    NumPy backend, which raises under ``numpy.errstate(all="raise")``.
    """
    if not cse:
        return [], list(exprs)

    used_symbols = set().union(*(expr.free_symbols for expr in exprs))
    names = sympy.numbered_symbols(_CSE_PREFIX, exclude=used_symbols)
    assignments, outputs = sympy.cse(exprs, symbols=names)
    return assignments, outputs


def _print_expr(printer, expr) -> str:
    try:
        return printer.doprint(expr)
    except (NotImplementedError, KeyError) as error:
        raise ValueError(
            f"cannot print {expr} with {type(printer).__name__}: {error}. "
            "Rewrite it with elementary functions or Piecewise."
        ) from error


def _assignment_lines(assignments, printer) -> list[str]:
    lines = []
    for symbol, expr in assignments:
        lines.append(f"{printer.doprint(symbol)} = {_print_expr(printer, expr)}")
    return lines


def _scalar_body(assignments, outputs, printer) -> list[str]:
    lines = _assignment_lines(assignments, printer)
    values = [f"float({_print_expr(printer, expr)})" for expr in outputs]
    return lines + _return_tuple_lines(values)


def _array_body(assignments, outputs, printer, arg_list: str) -> list[str]:
    # Adding a float64 zero of the broadcast shape makes constant outputs
    # arrays of the same shape as the others.
    shapes = ", ".join(f"numpy.shape({arg})" for arg in arg_list.split(", ") if arg)
    lines = [f"_zero = numpy.zeros(numpy.broadcast_shapes({shapes}))"]
    lines += _assignment_lines(assignments, printer)
    values = [f"{_print_expr(printer, expr)} + _zero" for expr in outputs]
    return lines + _return_tuple_lines(values)


def _return_tuple_lines(values) -> list[str]:
    return ["return (", *(f"    {value}," for value in values), ")"]


def _unpack_lines(states, params, symbol_names) -> list[str]:
    lines = [
        f"if len(y) != {len(states)}:",
        f"    raise ValueError('y must have {len(states)} entries "
        f"(states: {', '.join(s.name for s in states)})')",
        f"if len(params) != {len(params)}:",
        f"    raise ValueError('params must have {len(params)} entries "
        f"(params: {', '.join(s.name for s in params)})')",
    ]
    for index, symbol in enumerate(states):
        lines.append(f"{symbol_names[symbol]} = y[{index}]")
    for index, symbol in enumerate(params):
        lines.append(f"{symbol_names[symbol]} = params[{index}]")
    return lines


def _rhs_body(assignments, outputs, printer, shape_args) -> list[str]:
    lines = _assignment_lines(assignments, printer)
    if shape_args is None:
        lines.append(f"dydt = numpy.empty({len(outputs)})")
    else:
        shapes = ", ".join(f"numpy.shape({arg})" for arg in shape_args)
        lines.append(f"shape = numpy.broadcast_shapes({shapes})")
        lines.append(f"dydt = numpy.empty(({len(outputs)},) + shape)")

    for index, expr in enumerate(outputs):
        lines.append(f"dydt[{index}] = {_print_expr(printer, expr)}")
    lines.append("return dydt")
    return lines


def _function_docstring(doc, args, symbol_names, output_names, exprs) -> str:
    arg_lines = [_symbol_line(symbol, symbol_names) for symbol in args]
    lines = [doc.strip() or "Generated by flowphase.numerics.codegen.", ""]
    lines += ["Arguments, in order (float64):", *arg_lines, ""]
    lines.append(f"Returns a tuple of {len(exprs)} values, in order:")
    for label, expr in zip(output_names, exprs):
        lines.append(f"    {label} = {_short_expr(expr)}")
    return "\n".join(lines)


def _rhs_docstring(doc, time, states, params, symbol_names, rhs) -> str:
    lines = [doc.strip() or "Generated by flowphase.numerics.codegen.", ""]
    lines.append(f"t is the time (symbol {time.name}).")
    lines.append("y contains the states, in order:")
    lines += [_symbol_line(symbol, symbol_names) for symbol in states]
    lines.append("params contains the parameters, in order:")
    lines += [_symbol_line(symbol, symbol_names) for symbol in params]
    lines += ["", "Returns dydt, a new float64 array:"]
    for symbol, expr in zip(states, rhs):
        lines.append(f"    d{symbol.name}/d{time.name} = {_short_expr(expr)}")
    return "\n".join(lines)


def _symbol_line(symbol, symbol_names) -> str:
    local = symbol_names[symbol]
    if local == symbol.name:
        return f"    {symbol.name}"
    return f"    {symbol.name} (local name {local})"


def _short_expr(expr) -> str:
    text = sympy.sstr(expr)
    if len(text) > _DOC_EXPR_CHARS:
        text = text[:_DOC_EXPR_CHARS] + " ..."
    return text


def _quote_docstring(docstring: str, indent: str) -> list[str]:
    text = docstring.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = text.splitlines()
    body = [f"{indent}{line}" if line else "" for line in lines[1:]]
    return [f'{indent}"""{lines[0]}', *body, f'{indent}"""']


def _plain_definition(name, arg_list, docstring, body) -> list[str]:
    indent = "    "
    lines = [f"def {name}({arg_list}):"]
    lines += _quote_docstring(docstring, indent)
    lines += [f"{indent}{line}" for line in body]
    return lines


def _backend_definitions(name, arg_list, docstring, bodies, numpy_note):
    """Return the njit function ``name`` and its NumPy twin ``name_numpy``."""
    numba_body, numpy_body = bodies
    numba_lines = _plain_definition(name, arg_list, docstring, numba_body)
    numpy_docstring = f"{docstring}\n\nNumPy reference backend: {numpy_note}"
    numpy_lines = _plain_definition(
        f"{name}_numpy", arg_list, numpy_docstring, numpy_body
    )
    return [["@numba.njit(cache=True)", *numba_lines], numpy_lines]


def _module_source(functions, numpy_printer) -> str:
    versions = (
        f"flowphase {flowphase.__version__}, sympy {sympy.__version__}, "
        f"numba {numba.__version__}, numpy {numpy.__version__}"
    )
    imports = {"math", "numba", "numpy"} | set(numpy_printer.module_imports)
    lines = [
        '"""Generated by flowphase.numerics.codegen. Do not edit this file."""',
        f"# {versions}",
        "",
        *(f"import {module}" for module in sorted(imports)),
    ]
    for function in functions:
        lines += ["", "", *function]
    return "\n".join(lines) + "\n"


# Cache folder and import --------------------------------------------------


def _load_generated(name, functions, numpy_printer):
    """Write the module into the cache folder if needed and import it."""
    source = _module_source(functions, numpy_printer)
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    path = codegen_cache_dir() / f"{name}_{digest}.py"
    _ensure_file(path, source)

    module_name = f"flowphase_generated_{name}_{digest}"
    module = sys.modules.get(module_name)
    if module is None or getattr(module, "__file__", None) != str(path):
        module = _import_file(module_name, path)
    return module, path, source


def _ensure_file(path: Path, source: str) -> None:
    """Write ``source`` to ``path`` unless the file already contains it."""
    try:
        if path.read_text(encoding="utf-8") == source:
            return
        logger.warning("rewriting generated module %s: content differs", path)
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as error:
        logger.warning("rewriting unreadable generated module %s: %s", path, error)

    # A temp file in the same folder plus os.replace keeps the swap atomic,
    # so a concurrent reader sees either no file or a complete one.
    handle, temp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as temp_file:
            temp_file.write(source)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        # mkstemp creates the file as 0o600, more private than a module.
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _import_file(module_name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
