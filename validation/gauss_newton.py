"""One stochastic Gauss-Newton step for a batch of autoencoders.

Network ``k`` takes the input ``x = alpha_k*x0 + beta_k*x1`` for the shared
batch ``(x0, x1)`` and has parameters ``(c, u, rho, b)`` and a direction
``v`` with ``w = rho*v``. The residual is ``R = c*x + u*phi - x1`` with
``phi = tanh(rho*z + b)`` and ``z = v.x/sqrt(d)``. Its Jacobian columns
are ``x`` (for ``c``), ``phi*I`` (for ``u``), ``u*phi'*z`` (for ``rho``)
and ``u*phi'`` (for ``b``), so the Gauss-Newton matrix ``E[J^T J]`` has a
``u``-block equal to ``E[phi^2]*I``. Eliminating ``u`` with that block
leaves a 3x3 Schur complement in ``(c, rho, b)``, solved per network.
"""

import numpy as np


def _row_dots(a, b):
    return np.einsum("ij,ij->i", a, b)


def _column_dots(a, b):
    return np.einsum("ik,ik->k", a, b)


def gauss_newton_step(x0, x1, alphas, betas, state, *, gain, direction_gain,
                      damping):
    """Update ``state`` in place with one step on the batch ``(x0, x1)``.

    ``alphas`` and ``betas`` have shape ``(1, K)``. ``gain`` in ``(0, 1]``
    scales the step on ``(c, u, rho, b)``; ``direction_gain`` (a scalar or
    shape ``(K,)``) scales the step on ``v``, and 0 freezes ``v``. ``x0``
    and ``x1`` may be float32, which halves the cost of the matrix
    products; per-network sums are then formed in float64. Returns the
    batch loss per network divided by ``d`` (before the step).
    """
    n, d = x0.shape
    k = state.rho.shape[0]
    root_d = np.sqrt(d)

    # Per-sample norms, combined per network without forming x.
    n00 = _row_dots(x0, x0).astype(float)
    n01 = _row_dots(x0, x1).astype(float)
    n11 = _row_dots(x1, x1).astype(float)
    xx = (alphas**2 * n00[:, None] + 2 * alphas * betas * n01[:, None]
          + betas**2 * n11[:, None])
    x_x1 = alphas * n01[:, None] + betas * n11[:, None]

    # Projections on v and u for every network: two matrix products.
    vu = np.hstack([state.v, state.u]).astype(x0.dtype)
    p0 = (x0 @ vu).astype(float)
    p1 = (x1 @ vu).astype(float)
    z = (alphas * p0[:, :k] + betas * p1[:, :k]) / root_d
    x_u = alphas * p0[:, k:] + betas * p1[:, k:]
    x1_u = p1[:, k:]

    phi = np.tanh(state.rho * z + state.b)
    dphi = 1.0 - phi**2
    uu = _column_dots(state.u, state.u)
    c = state.c

    # R.u and R.x per sample; |R|^2 for the reported loss.
    r_u = c * x_u + uu * phi - x1_u
    r_x = c * xx + phi * x_u - x_x1
    loss = np.mean(c * r_x + phi * r_u - (c * x_x1 + phi * x1_u)
                   + n11[:, None], axis=0) / d

    update_direction = np.any(np.asarray(direction_gain) > 0)
    back = np.hstack([phi, r_u * dphi]) if update_direction else phi
    back = back.astype(x0.dtype)
    t0 = (x0.T @ back).astype(float) / n
    t1 = (x1.T @ back).astype(float) / n
    e_phi_x = alphas * t0[:, :k] + betas * t1[:, :k]
    e_phi2 = np.mean(phi**2, axis=0)

    # Half-gradients E[J^T R].
    h_u = c * e_phi_x + state.u * e_phi2 - t1[:, :k]
    h_c = np.mean(r_x, axis=0)
    h_rho = np.mean(r_u * dphi * z, axis=0)
    h_b = np.mean(r_u * dphi, axis=0)

    # Gauss-Newton blocks coupling u with (c, rho, b).
    e_pp_z = np.mean(phi * dphi * z, axis=0)
    e_pp = np.mean(phi * dphi, axis=0)
    a_cc = np.mean(xx, axis=0)
    a_crho = np.mean(x_u * dphi * z, axis=0)
    a_cb = np.mean(x_u * dphi, axis=0)
    a_rr = uu * np.mean(dphi**2 * z * z, axis=0)
    a_rb = uu * np.mean(dphi**2 * z, axis=0)
    a_bb = uu * np.mean(dphi**2, axis=0)

    # The u-block E[phi^2]*I, damped like the other diagonal entries.
    u_block = e_phi2 * (1.0 + damping)
    cu_cu = _column_dots(e_phi_x, e_phi_x)
    cu_u = _column_dots(e_phi_x, state.u)
    cu_h = _column_dots(e_phi_x, h_u)
    u_h = _column_dots(state.u, h_u)

    schur = np.empty((k, 3, 3))
    schur[:, 0, 0] = a_cc - cu_cu / u_block
    schur[:, 0, 1] = schur[:, 1, 0] = a_crho - cu_u * e_pp_z / u_block
    schur[:, 0, 2] = schur[:, 2, 0] = a_cb - cu_u * e_pp / u_block
    schur[:, 1, 1] = a_rr - uu * e_pp_z**2 / u_block
    schur[:, 1, 2] = schur[:, 2, 1] = a_rb - uu * e_pp_z * e_pp / u_block
    schur[:, 2, 2] = a_bb - uu * e_pp**2 / u_block
    rhs = np.stack([
        -h_c + cu_h / u_block,
        -h_rho + e_pp_z * u_h / u_block,
        -h_b + e_pp * u_h / u_block,
    ], axis=1)

    # Levenberg-Marquardt damping relative to the diagonal of the full
    # Gauss-Newton matrix, not of the Schur complement: the latter vanishes
    # where b is redundant with u (phi nearly constant), and damping it
    # would then leave that direction undamped.
    for i, a_ii in enumerate((a_cc, a_rr, a_bb)):
        schur[:, i, i] += damping * np.abs(a_ii) + 1e-12
    delta = np.linalg.solve(schur, rhs[..., None])[..., 0]
    d_c, d_rho, d_b = delta[:, 0], delta[:, 1], delta[:, 2]
    d_u = -(h_u + e_phi_x * d_c + state.u * (e_pp_z * d_rho + e_pp * d_b)) / u_block

    # Trust region: rho stays within [rho/2, 3*rho/2 + 1/2] and |d b| <= 1/2.
    # Keeping rho > 0 fixes the sign of w = rho*v, so that averaging w over
    # steps never cancels two mirror images of the same network.
    scale = np.minimum(1.0, 0.5 * (state.rho + 1.0 * (d_rho > 0))
                       / np.maximum(np.abs(d_rho), 1e-300))
    scale = np.minimum(scale, 0.5 / np.maximum(np.abs(d_b), 1e-300)) * gain
    state.c = c + scale * d_c
    state.rho = state.rho + scale * d_rho
    state.b = state.b + scale * d_b
    state.u = state.u + scale * d_u

    if update_direction:
        _direction_step(state, alphas, betas, t0[:, k:], t1[:, k:], xx, dphi,
                        uu, direction_gain)
    return loss


def _direction_step(state, alphas, betas, t0_g, t1_g, xx, dphi, uu, rate):
    """Gradient step on ``v`` orthogonal to ``v``, scaled by the curvature.

    Off the span of ``mu`` and ``w`` the Hessian in ``w`` is isotropic,
    ``2|u|^2 E[phi'^2 x_j^2]/d``; that value sets the step.
    """
    d = state.v.shape[0]
    root_d = np.sqrt(d)
    grad_v = 2 * (alphas * t0_g + betas * t1_g) / root_d * state.rho
    grad_v -= state.v * (_column_dots(grad_v, state.v) / d)
    curvature = (2 * uu / d * np.mean(dphi**2 * xx, axis=0) / d
                 * state.rho**2 + 1e-12)
    step = rate * grad_v / curvature
    # Where the activation saturates, gradient and curvature both vanish
    # and their ratio is mostly noise, so one step may turn v by at most
    # about `rate` radians.
    step_norm = np.linalg.norm(step, axis=0) / root_d
    step *= np.minimum(1.0, rate / np.maximum(step_norm, 1e-300))
    state.v = state.v - step
    state.v *= root_d / np.linalg.norm(state.v, axis=0)
