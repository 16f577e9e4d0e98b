"""Closed-form oracle for linear-Gaussian Bayesian networks (pure numpy, float64).

A linear-Gaussian graph is a list of :class:`Node` in topological order. Node ``i`` has a
shape ``()`` or ``(k,)`` (``size`` scalar entries), is *static* (one value shared by all
examples) or *dynamic* (one value per example), and is defined by

    x_i = offset_i + sum_j A_ij x_j + e_i,      e_i ~ N(0, diag(variance_i)),

where ``A_ij`` is a ``(size_i, size_j)`` matrix acting on the entries of parent ``j``. For a
dynamic child the formula holds per example ``n``: a dynamic parent contributes its value in
the same example, a static parent its one shared value.

Enumerating every scalar entry once -- a static node's entries once, a dynamic node's
entries once per example, node by node, each node flattened row-major over
``(n_data, *shape)`` (static: ``shape``), which is the order ``get_covariance`` uses -- the
whole graph is the linear structural equation model

    x = B x + c + e,   e ~ N(0, D)   =>   mean = (I - B)^{-1} c,
                                          cov  = (I - B)^{-1} D (I - B)^{-T}.

Observing the entries ``O`` (the complement ``H`` is hidden) gives the exact posterior by
Gaussian conditioning::

    mean_H|O = mean_H + S_HO S_OO^{-1} (x_O - mean_O)
    cov_H|O  = S_HH - S_HO S_OO^{-1} S_OH

:func:`posterior` returns both embedded into all entries (observed entries: the data, with
zero rows and columns in the covariance). :func:`posterior_from_precision` computes the same
thing an independent way (the prior precision ``(I-B)^T D^{-1} (I-B)`` restricted to ``H``),
to check the oracle itself.

:func:`forward_moments` is the oracle for ancestral sampling with clamped data (what a
ForwardModel does): observed entries are fixed, hidden ones are drawn from their conditional
prior given their parents' (clamped or drawn) values; nothing flows backward. So
``x_H = (I - B_HH)^{-1} (B_HO x_O + c_H + e_H)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Link:
    """A parent's linear contribution: ``matrix @ x_parent`` (``form``: how it is written)."""

    parent: int
    matrix: np.ndarray
    form: str = ""


@dataclass(frozen=True)
class Node:
    """One variable of a linear-Gaussian graph (see the module docstring)."""

    name: str
    static: bool
    shape: tuple[int, ...]
    offset: np.ndarray
    variance: np.ndarray
    links: tuple[Link, ...] = field(default_factory=tuple)
    #: how offset and variance are written for the library: "scalar" or "vector"
    offset_form: str = "vector"
    variance_form: str = "vector"

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def full_shape(self, n_data: int) -> tuple[int, ...]:
        """The shape of this node's values: ``shape`` (static) or ``(n_data, *shape)``."""
        return self.shape if self.static else (n_data, *self.shape)


def layout(nodes: list[Node], n_data: int) -> list[np.ndarray]:
    """Global entry indices of each node, shaped like its values (``full_shape``)."""
    out, start = [], 0
    for node in nodes:
        count = int(np.prod(node.full_shape(n_data), dtype=np.int64))
        out.append(np.arange(start, start + count).reshape(node.full_shape(n_data)))
        start += count
    return out


def sem(nodes: list[Node], n_data: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(B, c, d)`` of the structural equation model ``x = B x + c + e``, ``e ~ N(0, diag d)``.

    ``B`` is strictly lower triangular (node order is topological, entries are node-major).
    """
    index = layout(nodes, n_data)
    total = sum(ix.size for ix in index)
    B = np.zeros((total, total))
    c = np.zeros(total)
    d = np.zeros(total)
    for i, node in enumerate(nodes):
        examples = [None] if node.static else range(n_data)
        for n in examples:
            rows = (index[i] if n is None else index[i][n]).reshape(-1)
            c[rows] = node.offset
            d[rows] = node.variance
            for link in node.links:
                # a static parent has one value for all examples; a dynamic one, example n's
                parent_index = index[link.parent]
                if node.static and not nodes[link.parent].static:
                    raise ValueError(f"static {node.name} cannot have a dynamic parent")
                if not nodes[link.parent].static:
                    parent_index = parent_index[n]
                cols = parent_index.reshape(-1)
                B[np.ix_(rows, cols)] += np.asarray(link.matrix, dtype=np.float64)
    return B, c, d


def joint_prior(nodes: list[Node], n_data: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of all entries: ``(I-B)^{-1} c`` and ``(I-B)^{-1} D (I-B)^{-T}``."""
    B, c, d = sem(nodes, n_data)
    I_B = np.eye(len(c)) - B
    mean = np.linalg.solve(I_B, c)
    L = np.linalg.solve(I_B, np.diag(np.sqrt(d)))
    return mean, L @ L.T


def posterior(mean: np.ndarray, cov: np.ndarray, observed: np.ndarray, values: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Condition ``N(mean, cov)`` on ``x[observed] = values[observed]`` (Gaussian conditioning).

    Returns the posterior mean and covariance over all entries: observed entries get their
    value and zero rows/columns.
    """
    observed = np.asarray(observed, dtype=bool)
    hidden = ~observed
    post_mean = np.array(mean, dtype=np.float64)
    post_cov = np.zeros_like(cov)
    post_mean[observed] = values[observed]
    S_HH = cov[np.ix_(hidden, hidden)]
    if observed.any():
        S_HO = cov[np.ix_(hidden, observed)]
        S_OO = cov[np.ix_(observed, observed)]
        residual = values[observed] - mean[observed]
        post_mean[hidden] = mean[hidden] + S_HO @ np.linalg.solve(S_OO, residual)
        S_HH = S_HH - S_HO @ np.linalg.solve(S_OO, S_HO.T)
    post_cov[np.ix_(hidden, hidden)] = 0.5 * (S_HH + S_HH.T)
    return post_mean, post_cov


def posterior_from_precision(nodes: list[Node], n_data: int, observed: np.ndarray,
                             values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same as :func:`posterior` of :func:`joint_prior`, computed from the precision.

    The prior precision is ``Q = (I-B)^T D^{-1} (I-B)``; the posterior of ``H`` has precision
    ``Q_HH`` and mean ``mean_H - Q_HH^{-1} Q_HO (x_O - mean_O)``.
    """
    B, c, d = sem(nodes, n_data)
    I_B = np.eye(len(c)) - B
    Q = I_B.T @ np.diag(1.0 / d) @ I_B
    prior_mean = np.linalg.solve(I_B, c)
    observed = np.asarray(observed, dtype=bool)
    hidden = ~observed
    post_mean = np.array(prior_mean)
    post_mean[observed] = values[observed]
    Q_HH = Q[np.ix_(hidden, hidden)]
    residual = values[observed] - prior_mean[observed]
    post_mean[hidden] = prior_mean[hidden] - np.linalg.solve(
        Q_HH, Q[np.ix_(hidden, observed)] @ residual)
    post_cov = np.zeros_like(Q)
    post_cov[np.ix_(hidden, hidden)] = np.linalg.inv(Q_HH)
    return post_mean, post_cov


def forward_moments(nodes: list[Node], n_data: int, observed: np.ndarray, values: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and elementwise variance of ancestral sampling with the observed entries clamped.

    ``x_H = (I - B_HH)^{-1} (B_HO x_O + c_H + e_H)``; observed entries: value, variance 0.
    """
    B, c, d = sem(nodes, n_data)
    observed = np.asarray(observed, dtype=bool)
    hidden = ~observed
    mean = np.array(values, dtype=np.float64)
    var = np.zeros(len(c))
    I_B = np.eye(int(hidden.sum())) - B[np.ix_(hidden, hidden)]
    rhs = B[np.ix_(hidden, observed)] @ values[observed] + c[hidden]
    mean[hidden] = np.linalg.solve(I_B, rhs)
    L = np.linalg.solve(I_B, np.diag(np.sqrt(d[hidden])))
    var[hidden] = np.sum(L * L, axis=1)
    return mean, var
