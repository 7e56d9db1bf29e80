"""Collect the derived equations and export them as LaTeX or Markdown.

Every equation comes from the derivations in ``model``, ``limits`` and
``flow``, so the documents show what the code computes. The one exception
is the closed-form solution ``M = t``, ``P = (1 - t)^2 + sigma^2 t^2`` of
the saturated flow, which is listed only where substitution verifies it. Each entry of
:func:`derivation_equations` is ``(label, equation, description)``, where
``equation`` is a ``sympy.Eq`` or a LaTeX string.
"""

from __future__ import annotations

import sympy as sp

from . import flow, limits, model
from .schedules import dilated_schedule
from .symbols import M, P, alpha_dot, beta_dot, log_odds, sigma, t, y

__all__ = ["derivation_equations", "to_latex_document", "to_markdown"]

_x, _mu = sp.symbols("x mu")
_projection = sp.Symbol("mu_dot_x_display")
_gamma = sp.Symbol("Gamma")
_denoised = sp.Symbol("D_display")
_velocity = sp.Symbol("v_display")
_OVERLAP_SYMBOLS = {
    "c": sp.Symbol("c"),
    "m": sp.Symbol("m"),
    "q": sp.Symbol("q"),
    "omega": sp.Symbol("omega"),
    "r": sp.Symbol("r"),
    "b": sp.Symbol("b"),
}
_LIMIT_SYMBOLS = {name: sp.Symbol(f"{name}_limit") for name in _OVERLAP_SYMBOLS}

# LaTeX for the symbols whose SymPy names do not print as the notation.
_DISPLAY_NAMES = {
    log_odds: r"\ell",
    alpha_dot: r"\dot{\alpha}",
    beta_dot: r"\dot{\beta}",
    _gamma: r"\Gamma",
    _projection: r"(\mu \cdot x)",
    _denoised: r"D_t(x)",
    _velocity: r"v(t, x)",
    **{
        _LIMIT_SYMBOLS[name]: sp.latex(symbol) + r"_{\infty}"
        for name, symbol in _OVERLAP_SYMBOLS.items()
    },
}


def _model_equations() -> list[tuple[str, sp.Eq, str]]:
    coefficients = model.velocity_coefficients()
    denoised = model.denoiser(_x, _mu, _projection)
    return [
        ("gamma", sp.Eq(_gamma, model.gamma_expr), "Per-coordinate variance of x_t within a mode."),
        (
            "denoiser",
            sp.Eq(_denoised, denoised),
            "Exact denoiser E[x1 | x_t = x] at any d, from the Gaussian posteriors.",
        ),
        (
            "velocity",
            sp.Eq(_velocity, coefficients["A"] * _x + coefficients["B"] * _denoised),
            "Velocity field written with the denoiser.",
        ),
    ]


def _overlap_equations() -> list[tuple[str, sp.Eq, str]]:
    overlaps = model.optimal_overlaps()
    return [
        (
            f"optimal-{name}",
            sp.Eq(symbol, overlaps[name]),
            f"Overlap {name} of the network that equals the exact denoiser.",
        )
        for name, symbol in _OVERLAP_SYMBOLS.items()
    ]


def _limit_equations(schedule) -> list[tuple[str, sp.Eq, str]]:
    equations = []
    for index, piece_limits in enumerate(limits.overlap_limit_functions(schedule)):
        span = f"[{piece_limits.start}, {piece_limits.end}]"
        for name, symbol in _OVERLAP_SYMBOLS.items():
            limit_symbol = _LIMIT_SYMBOLS[name]
            equations.append(
                (
                    f"limit-{name}-piece-{index + 1}",
                    sp.Eq(limit_symbol, piece_limits.overlaps[name]),
                    f"Limit d -> oo of {name} on the piece {span} of the "
                    f"{schedule.name} schedule, t measured from the piece start.",
                )
            )
    return equations


def _flow_equations(schedule) -> list[tuple[str, sp.Eq, str]]:
    dy_dt, dp_dt = flow.summary_odes()
    y_of_t, p_of_t, m_of_t = (sp.Function(name)(t) for name in ("y", "P", "M"))
    equations = [
        (
            "flow-y",
            sp.Eq(sp.Derivative(y_of_t, t), dy_dt.subs(y, y_of_t)),
            "Projection y = mu.X/sqrt(d) under the exact velocity, any d.",
        ),
        (
            "flow-P",
            sp.Eq(sp.Derivative(p_of_t, t), dp_dt.subs(P, p_of_t)),
            "Orthogonal norm P = |X_perp|^2/d under the exact velocity, any d.",
        ),
    ]
    for index, piece in enumerate(schedule.pieces):
        span = f"[{piece.start}, {piece.end}]"
        try:
            limit = flow.order_one_limit(piece)
        except NotImplementedError:
            try:
                dm_dt, dp_limit = flow.saturated_limit(piece)
            except (NotImplementedError, TypeError, AttributeError, ValueError) as error:
                # SymPy cannot take every limit of a user schedule; the
                # finite-d flow above is still valid there.
                equations.append((
                    f"flow-limit-piece-{index + 1}",
                    f"\\text{{no large-d limit derived on {span}}}",
                    f"Large-d limit on {span} not derived: {error}",
                ))
                continue
            equations += [
                (
                    f"flow-M-limit-piece-{index + 1}",
                    sp.Eq(sp.Derivative(m_of_t, t), dm_dt.subs(M, m_of_t)),
                    f"Limit d -> oo of M = y/sqrt(d) > 0 on {span}, where tanh saturates.",
                ),
                (
                    f"flow-P-limit-piece-{index + 1}",
                    sp.Eq(sp.Derivative(p_of_t, t), dp_limit.subs(P, p_of_t)),
                    f"Limit d -> oo of P on {span}.",
                ),
            ]
            equations += _solution_equations(dm_dt, dp_limit, index, span)
            continue
        equations.append(
            (
                f"flow-y-limit-piece-{index + 1}",
                sp.Eq(sp.Derivative(y_of_t, t), limit.subs(y, y_of_t)),
                f"Limit d -> oo of y on {span}, t measured from the piece start.",
            )
        )
    return equations


def _solution_equations(dm_dt, dp_dt, index, span) -> list[tuple[str, sp.Eq, str]]:
    """Return M = t and P = (1 - t)^2 + sigma^2 t^2 where substitution verifies them."""
    m_candidate = t
    p_candidate = (1 - t) ** 2 + sigma**2 * t**2
    try:
        m_holds = sp.simplify(sp.diff(m_candidate, t) - dm_dt.subs(M, m_candidate)) == 0
        p_holds = sp.simplify(sp.diff(p_candidate, t) - dp_dt.subs(P, p_candidate)) == 0
    except (TypeError, AttributeError):
        # NOTE: SymPy 1.14's simplify fails on some Piecewise limits of user
        # schedules; the closed-form solutions are then left out.
        return []
    if not (m_holds and p_holds):
        return []
    description = f"Solution on {span} from M(0) = 0, P(0) = 1, checked by substitution."
    return [
        (f"solution-M-piece-{index + 1}", sp.Eq(M, m_candidate), description),
        (f"solution-P-piece-{index + 1}", sp.Eq(P, p_candidate), description),
    ]


def derivation_equations(schedule=None) -> list[tuple[str, sp.Eq | str, str]]:
    """List ``(label, equation, description)`` for every derived result.

    Covers Gamma, the denoiser, the velocity field, the optimal overlaps,
    their large-``d`` limits on each piece of ``schedule`` (default: the
    dilated schedule with ``kappa`` symbolic), the finite-``d`` flow ODEs
    and their limits per piece.
    """
    schedule = dilated_schedule() if schedule is None else schedule
    return [
        *_model_equations(),
        *_overlap_equations(),
        *_limit_equations(schedule),
        *_flow_equations(schedule),
    ]


def _latex(equation) -> str:
    if isinstance(equation, str):
        return equation
    return sp.latex(equation, symbol_names=_DISPLAY_NAMES)


_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "^": r"\^{}",
    "~": r"\~{}",
}


def _escape(text: str) -> str:
    """Escape the LaTeX special characters of plain text."""
    return "".join(_LATEX_ESCAPES.get(character, character) for character in text)


def to_latex_document(equations=None, *, schedule=None, title="Derived equations") -> str:
    """Return a standalone ``.tex`` document with one numbered equation per entry."""
    entries = derivation_equations(schedule) if equations is None else equations
    lines = [
        r"\documentclass{article}",
        r"\usepackage{amsmath}",
        r"\begin{document}",
        rf"\section*{{{_escape(title)}}}",
    ]
    for label, equation, description in entries:
        lines += [
            "",
            _escape(description),
            r"\begin{equation}",
            rf"\label{{eq:{label}}}",
            _latex(equation),
            r"\end{equation}",
        ]
    lines += ["", r"\end{document}", ""]
    return "\n".join(lines)


def to_markdown(equations=None, *, schedule=None) -> str:
    """Return Markdown with each equation in a ``$$ ... $$`` block."""
    entries = derivation_equations(schedule) if equations is None else equations
    blocks = [
        f"**{label}**: {description}\n\n$$\n{_latex(equation)}\n$$\n"
        for label, equation, description in entries
    ]
    return "\n".join(blocks)
