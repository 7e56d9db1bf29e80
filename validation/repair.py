"""Repair of isolated training failures by neighbouring warm starts.

Once in a while a network stalls in a poor state (in the saturated phase,
``|w|`` collapses and ``c``, ``u`` compensate), while its neighbours on
the time grid are fine. On fresh samples, the repair compares the loss
of each network's own parameters at its time with the loss of its two
neighbours' parameters there. It adopts a neighbour's parameters when
they are better by more than three standard errors of the paired
difference.
Only ``(w, b)`` is taken from a neighbour: the linear parameters
``(c, u)`` of every candidate are refitted by least squares on the same
samples, because the neighbour's ``c`` belongs to another time. The
caller then trains the adopted networks again from that warm start.
"""

import numpy as np


def per_sample_losses(x0, x1, alphas, betas, c, u, w, b):
    """Return ``|f_k(x) - x1|^2/d`` per sample and network, shape ``(n, K)``.

    ``x = alpha_k x0 + beta_k x1`` and ``f_k(x) = c_k x + u_k tanh(w_k.x/sqrt(d) + b_k)``,
    expanded as ``c^2|x|^2 + |u|^2 phi^2 + |x1|^2 + 2c phi x.u - 2c x.x1 - 2 phi x1.u``.
    """
    d = x0.shape[1]
    x0 = x0.astype(float)
    x1 = x1.astype(float)
    n00 = np.einsum("ij,ij->i", x0, x0)[:, None]
    n01 = np.einsum("ij,ij->i", x0, x1)[:, None]
    n11 = np.einsum("ij,ij->i", x1, x1)[:, None]
    k = c.shape[0]
    wu = np.hstack([w, u])
    p0, p1 = x0 @ wu, x1 @ wu
    x_w = alphas * p0[:, :k] + betas * p1[:, :k]
    x_u = alphas * p0[:, k:] + betas * p1[:, k:]
    x1_u = p1[:, k:]
    phi = np.tanh(x_w / np.sqrt(d) + b)
    xx = alphas**2 * n00 + 2 * alphas * betas * n01 + betas**2 * n11
    x_x1 = alphas * n01 + betas * n11
    uu = np.einsum("ik,ik->k", u, u)
    squared = (c**2 * xx + uu * phi**2 + n11 + 2 * c * phi * x_u
               - 2 * c * x_x1 - 2 * phi * x1_u)
    return squared / d


def refit_linear(batches, alphas, betas, w, b):
    """Return the least-squares ``(c, u)`` for fixed ``(w, b)``.

    ``batches`` is an iterable of ``(x0, x1)`` pairs whose sufficient
    statistics are summed, so the fit can use many samples. Minimises
    ``sum |c x + u phi - x1|^2`` over ``c`` (scalar) and ``u`` (vector) per
    network: ``u = (S_{x1 phi} - c S_{x phi})/S_{phi phi}``, and ``c``
    solves the remaining scalar normal equation.
    """
    n00 = n01 = n11 = 0.0
    s_pp = s_x0p = s_x1p = 0.0
    for x0, x1 in batches:
        d = x0.shape[1]
        x0 = np.asarray(x0, dtype=float)
        x1 = np.asarray(x1, dtype=float)
        n00 += np.einsum("ij,ij->", x0, x0)
        n01 += np.einsum("ij,ij->", x0, x1)
        n11 += np.einsum("ij,ij->", x1, x1)
        x_w = alphas * (x0 @ w) + betas * (x1 @ w)
        phi = np.tanh(x_w / np.sqrt(d) + b)
        s_pp = s_pp + np.einsum("ik,ik->k", phi, phi)
        s_x0p = s_x0p + x0.T @ phi
        s_x1p = s_x1p + x1.T @ phi
    s_xp = alphas * s_x0p + betas * s_x1p
    s_xx = alphas[0]**2 * n00 + 2 * alphas[0] * betas[0] * n01 + betas[0]**2 * n11
    s_xx1 = alphas[0] * n01 + betas[0] * n11
    numerator = s_xx1 - np.einsum("ik,ik->k", s_x1p, s_xp) / s_pp
    denominator = s_xx - np.einsum("ik,ik->k", s_xp, s_xp) / s_pp
    c = numerator / denominator
    u = (s_x1p - c * s_xp) / s_pp
    return c, u


def _shifted(params, shift):
    """Move each parameter set ``shift`` columns to the right."""
    c, u, w, b = params
    return (np.roll(c, shift), np.roll(u, shift, axis=1),
            np.roll(w, shift, axis=1), np.roll(b, shift))


def choose_neighbours(x0, x1, alphas, betas, params, *, z_score=3.0):
    """Return, per network, the index whose parameters to adopt.

    ``params`` is ``(c, u, w, b)``. Index ``k`` keeps the network's own
    parameters; ``k - 1`` or ``k + 1`` adopts a neighbour's.
    """
    k = params[0].shape[0]

    def refitted_losses(w, b):
        c, u = refit_linear([(x0, x1)], alphas, betas, w, b)
        return per_sample_losses(x0, x1, alphas, betas, c, u, w, b)

    own = refitted_losses(params[2], params[3])
    choice = np.arange(k)
    best_gain = np.zeros(k)
    for shift in (1, -1):
        _, _, w, b = _shifted(params, shift)
        other = refitted_losses(w, b)
        difference = own - other
        mean = difference.mean(axis=0)
        error = difference.std(axis=0, ddof=1) / np.sqrt(difference.shape[0])
        better = (mean > z_score * error) & (mean > best_gain)
        if shift == 1:
            better[0] = False
        else:
            better[-1] = False
        choice = np.where(better, np.arange(k) - shift, choice)
        best_gain = np.where(better, mean, best_gain)
    return choice
