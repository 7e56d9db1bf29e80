"""LaTeX entries for the overlap ODEs of online SGD, both phases.

Each entry of :func:`sgd_equations` is ``(label, latex, description)``
in the format of :func:`flowphase.theory.latex.to_latex_document`, and is
printed from the derived expressions of :mod:`flowphase.theory.sgd`,
:mod:`flowphase.theory.sgd_phase_two` and :mod:`flowphase.theory.sgd_undilated`. The moment symbol ``M_j_k`` is shown
as ``E[s^j phi^k]``.
"""

from __future__ import annotations

import sympy as sp

from . import gaussian, sgd, sgd_phase_two, sgd_undilated
from .symbols import t

__all__ = ["sgd_equations"]

def _moment_display(j: int, k: int) -> str:
    """Return the LaTeX of ``E[s^j phi^k]``."""
    inside = "s" if j else ""
    if k:
        inside += r"\phi"
    if k > 1:
        inside += f"^{{{k}}}"
    return r"\mathbb{E}[" + inside + "]"


_DISPLAY_NAMES = {
    sgd.lr: r"\eta",
    sgd_phase_two.gamma: r"\Gamma",
    t: r"\tau",
}
for _j in (0, 1):
    for _k in range(9):
        if _j or _k:
            _DISPLAY_NAMES[gaussian.moment_symbol(_j, _k)] = _moment_display(_j, _k)


def _display(expression) -> str:
    return sp.latex(expression, symbol_names=_DISPLAY_NAMES)


def _rate(name: str, rate) -> str:
    symbol = sp.latex(sp.Symbol(name))
    return rf"\frac{{d {symbol}}}{{d T}} = " + _display(rate)


def _phase_one_entries():
    dynamics = sgd.phase_one_dynamics()
    entries = [(
        "sgd-preactivation",
        r"a = " + _display(dynamics.slope * gaussian.xi + dynamics.shift),
        "Phase-1 pre-activation as d -> oo, xi ~ N(0, 1), phi = tanh(a).",
    )]
    for name in sgd.STATE_NAMES:
        entries.append((
            f"sgd-phase-1-{name}",
            _rate(name, dynamics.rates[name]),
            f"Phase-1 drift of {name} under online SGD as d -> oo (tau is the "
            "dilated time).",
        ))
    return entries


def _phase_two_entries():
    dynamics = sgd_phase_two.phase_two_dynamics()
    limit = sgd_phase_two.phase_two_limit()
    entries = []
    for name in sgd_phase_two.STATE_NAMES:
        entries.append((
            f"sgd-phase-2-{name}",
            _rate(name, dynamics.rates[name]),
            f"Phase-2 drift of {name} with tanh(a) saturated to s; b, omega "
            "and r are frozen.",
        ))
    phase_two_time = {t: sp.Symbol("t")}
    for name in ("c", "m"):
        symbol = sp.latex(sp.Symbol(name))
        entries.append((
            f"sgd-phase-2-fixed-{name}",
            symbol + " = " + _display(dynamics.fixed_point[name]) + r"\to "
            + sp.latex(limit.fixed_point[name].subs(phase_two_time)),
            f"Phase-2 fixed point of {name} at finite d, and its limit with "
            "t = tau - 1.",
        ))
    return entries


def _linear_entries():
    window = sgd_undilated.window_dynamics()
    fixed = sgd_undilated.fixed_time_dynamics()
    linear_time = {t: sp.Symbol("t")}
    entries = [(
        "sgd-linear-window-b",
        _rate("b", window.rates["b"]),
        "Linear schedule at t = theta/sqrt(d): drift of b as d -> oo, with "
        "a = " + str(window.slope * gaussian.xi + window.shift) + ".",
    )]
    for name in sgd_phase_two.STATE_NAMES:
        entries.append((
            f"sgd-linear-fixed-{name}",
            _rate(name, fixed.rates[name].subs(linear_time)),
            f"Linear schedule at a fixed t: drift of {name} with tanh(a) saturated; "
            "b, omega and r are frozen, so p is not learned.",
        ))
    entries.append((
        "sgd-linear-fixed-point-c",
        "c = " + sp.latex(fixed.fixed_point["c"].subs(linear_time)),
        "Linear schedule at a fixed t: fixed point of c.",
    ))
    return entries


def sgd_equations() -> list[tuple[str, str, str]]:
    """Return the LaTeX entries of the overlap ODEs of both phases and the linear schedule."""
    return _phase_one_entries() + _phase_two_entries() + _linear_entries()
