"""One online SGD step of the autoencoder, fused into a single Numba kernel.

:func:`fused_step` does what ``online_sgd._step`` does with NumPy on the
samples ``x_t = alpha x0 + beta x1``, ``x1 = s mu + sigma z``, but forms
them on the fly and takes three passes over the coordinates instead of
some twenty array operations with temporaries. Every gradient is taken at
the old parameters:

- ``phi = tanh(w.x/sqrt(d) + b)``, ``e = c x + u phi - x1``,
- ``u -= (eta/d) e phi`` and ``w -= (eta/d) (e.u)(1 - phi^2) x/sqrt(d)``,
- ``c -= (eta/d^2) e.x`` and ``b -= (eta/d^2) (e.u)(1 - phi^2)``.
"""

import math

import numba

__all__ = ["fused_step"]


@numba.njit(cache=True)
def fused_step(c, b, u, w, x0, z, signs, mu, alpha, beta, sigma, eta):
    """Update ``c, b`` of shape ``(n,)`` and ``u, w`` of shape ``(n, d)`` in place."""
    n, d = x0.shape
    root_d = math.sqrt(d)
    step = eta / d
    for row in range(n):
        shift = signs[row]
        pre = 0.0
        for i in range(d):
            data = shift * mu[i] + sigma * z[row, i]
            pre += w[row, i] * (alpha * x0[row, i] + beta * data)
        phi = math.tanh(pre / root_d + b[row])

        error_u = 0.0
        error_x = 0.0
        for i in range(d):
            data = shift * mu[i] + sigma * z[row, i]
            x = alpha * x0[row, i] + beta * data
            error = c[row] * x + u[row, i] * phi - data
            error_u += error * u[row, i]
            error_x += error * x
        back = error_u * (1.0 - phi * phi)

        for i in range(d):
            data = shift * mu[i] + sigma * z[row, i]
            x = alpha * x0[row, i] + beta * data
            error = c[row] * x + u[row, i] * phi - data
            u[row, i] -= step * error * phi
            w[row, i] -= step * back * x / root_d
        c[row] -= step / d * error_x
        b[row] -= step / d * back
