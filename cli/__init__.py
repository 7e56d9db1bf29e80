"""flowphase: phase-aware training of flow-based generative models.

Subpackages, in import order (each uses only those before it):

- ``flowphase.theory``: SymPy derivations (schedules, denoiser, optimal
  autoencoder, ``d -> oo`` limits, summary-statistic flows, LaTeX export).
- ``flowphase.numerics``: Numba code generated from the symbolic layer,
  ODE integrators, exact statistics of the Euler sampler.
- ``flowphase.validation``: finite-``d`` training and sampling in NumPy.
- ``flowphase.report`` and ``flowphase.cli``: the ``flowphase`` command.
"""

__version__ = "0.1.0"
