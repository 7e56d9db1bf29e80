"""Shared SymPy symbols, named as in the notation table of the docs.

| symbol | meaning                                   | name        |
|--------|-------------------------------------------|-------------|
| t      | time of a schedule (tau on the dilated one)| ``t``       |
| d      | dimension                                 | ``d``       |
| p      | weight of the +mu mode                    | ``p``       |
| l      | log-odds artanh(2p - 1)                   | ``log_odds``|
| sigma  | within-mode standard deviation            | ``sigma``   |
| kappa  | dilation parameter                        | ``kappa``   |
| alpha, beta | noise and data coefficients          | ``alpha``, ``beta`` |
| y      | mu . X / sqrt(d) of a generated sample    | ``y``       |
| M, P   | signed overlap, orthogonal norm           | ``M``, ``P`` |
"""

import sympy as sp

t = sp.Symbol("t", nonnegative=True)
d = sp.Symbol("d", positive=True)
p = sp.Symbol("p", positive=True)
log_odds = sp.Symbol("ell", real=True)
sigma = sp.Symbol("sigma", positive=True)
kappa = sp.Symbol("kappa", positive=True)
alpha = sp.Symbol("alpha", nonnegative=True)
beta = sp.Symbol("beta", nonnegative=True)
alpha_dot = sp.Symbol("alpha_dot", real=True)
beta_dot = sp.Symbol("beta_dot", real=True)
y = sp.Symbol("y", real=True)
M = sp.Symbol("M", real=True)
P = sp.Symbol("P", nonnegative=True)

#: ``epsilon = 1/sqrt(d)``, the small parameter of the large-``d`` expansions.
epsilon = sp.Symbol("epsilon", positive=True)
