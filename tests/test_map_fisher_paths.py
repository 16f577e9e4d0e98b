"""MAPFisherModel's two paths: the dense Hessian and the matrix-free one (Lanczos draws,
conjugate-gradient covariances), on a linear-Gaussian pedigree whose posterior is exact."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from bayesgraph.core import Graph, StaticVariable, Variable
from bayesgraph.core.model import MAPFisherModel
from bayesgraph.exceptions import ConvergenceError, ConvergenceWarning, OptionError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_grouping import pedigree  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:all data for .* are NaN:UserWarning")


@pytest.fixture(scope="module")
def fits():
    ped, persons, data = pedigree(30, seed=2)
    dense = MAPFisherModel(ped, data=data, seed=0).solve()
    free = MAPFisherModel(ped, data=data, seed=0, max_dense_dimension=10).solve()
    return persons, dense, free


def test_the_path_depends_on_the_dimension(fits):
    _, dense, free = fits
    assert dense.dense and not free.dense and free.dimension > 10


def test_matrix_free_means_and_covariances_are_exact(fits):
    persons, dense, free = fits
    factors = [p.genetic_factor for p in persons]
    np.testing.assert_allclose(np.ravel(free.get_means(factors)),
                               np.ravel(dense.get_means(factors)), rtol=1e-10)
    some = factors[-6:] + [persons[1].height]
    np.testing.assert_allclose(free.get_covariance(some), dense.get_covariance(some),
                               rtol=1e-7, atol=1e-9)


def test_matrix_free_draws_follow_the_laplace_gaussian(fits):
    persons, dense, free = fits
    some = [p.genetic_factor for p in persons[-4:]] + [persons[1].height]
    n = 4000
    draws = np.stack([np.ravel(x) for x in free.get_samples(some, n_samples=n)], axis=0)
    draws = draws.reshape(len(some), n).T
    # all but the first chunk of 16 draws ran the fewer, calibrated Lanczos steps
    assert free.lanczos_steps_used < min(free.lanczos_steps, free.dimension)
    exact_mean = np.ravel(dense.get_means(some))
    exact_cov = dense.get_covariance(some)
    sd = np.sqrt(np.diag(exact_cov))
    assert np.all(np.abs(draws.mean(axis=0) - exact_mean) < 5 * sd / np.sqrt(n))
    # sample variances: relative standard error sqrt(2 / n)
    variances = np.ravel(free.get_variances(some, n_samples=n))
    assert np.all(np.abs(variances / np.diag(exact_cov) - 1) < 5 * np.sqrt(2 / n))
    correlation = np.corrcoef(draws.T)
    exact_correlation = exact_cov / np.outer(sd, sd)
    assert np.all(np.abs(correlation - exact_correlation) < 5 / np.sqrt(n))


def test_matrix_free_path_reports_a_flat_direction():
    with Graph("flat") as flat:
        q = Variable("q", distribution="NoDistribution")
        other = Variable("other", distribution="NoDistribution")
        Variable("r", mean=q + other, variance=1.0)  # only q + other is seen: q - other is flat
    model = MAPFisherModel(flat, data={flat.r: [1.0]}, max_dense_dimension=0, seed=0)
    model.solve()
    with pytest.raises(ConvergenceError, match="not positive definite"):
        model.get_samples(flat.q, n_samples=3)


def test_too_few_lanczos_steps_warn():
    ped, persons, data = pedigree(30, seed=2)
    model = MAPFisherModel(ped, data=data, seed=0, max_dense_dimension=10,
                           lanczos_steps=3).solve()
    with pytest.warns(ConvergenceWarning, match="lanczos_steps"):
        model.get_samples(persons[-1].genetic_factor, n_samples=2)


# -- the importance-sampling check after solve() (issue 8 item 1) --------------------------------
def test_laplace_at_a_wrong_local_mode_is_reported():
    from _vi_graphs import latent_ar1
    from bayesgraph.exceptions import ApproximationWarning

    g, data = latent_ar1()
    with pytest.warns(ApproximationWarning, match=r"MAPFisherModel.*k-hat.*'ar1/s'"):
        model = MAPFisherModel(g, data, seed=0).solve()
    assert model.pareto_k > 0.7


def test_exact_laplace_passes_the_check_and_the_check_can_be_skipped():
    from bayesgraph.exceptions import ApproximationWarning

    with Graph("lin") as g:
        w = StaticVariable("w", shape=(2,), mean=0, variance=4)
        x = Variable("x", shape=(2,))
        Variable("y", mean=x @ w, variance=0.5)
    rng = np.random.default_rng(2)
    x_data = rng.normal(size=(20, 2))
    data = {g.x: x_data, g.y: x_data @ [1.0, -0.5] + rng.normal(scale=0.7, size=20)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ApproximationWarning)
        exact = MAPFisherModel(g, data, seed=0).solve()
        skipped = MAPFisherModel(g, data, seed=0, check=False).solve()
    # a Gaussian posterior: every importance ratio is the same number
    assert exact.importance_ess == pytest.approx(1000) and exact.pareto_k < 0.7
    assert skipped.pareto_k is None
    with pytest.raises(OptionError, match="check"):
        MAPFisherModel(g, data, check="yes")


def test_lanczos_coefficients_equal_the_dense_inverse_square_root():
    """``coefficients`` (LAPACK's tridiagonal eigensolver) gives ``T^{-1/2} e_1`` of each
    batch row, and of its leading ``k - k // 4`` block, as the dense matrix function does;
    a non-positive Ritz value gives NaN, with the smallest one reported."""
    from bayesgraph.core.model._krylov import coefficients

    rng = np.random.default_rng(3)
    k, early = 12, 9
    alphas = rng.uniform(3.0, 5.0, (2, 3, k))
    betas = rng.uniform(0.1, 1.0, (2, 3, k))
    coef, coef_early, smallest = coefficients(alphas, betas)
    assert coef.shape == coef_early.shape == (2, 3, k)
    lowest = np.inf
    for i in np.ndindex(2, 3):
        t = np.diag(alphas[i]) + np.diag(betas[i][:-1], 1) + np.diag(betas[i][:-1], -1)
        for m, got in ((k, coef[i]), (early, coef_early[i][:early])):
            w, v = np.linalg.eigh(t[:m, :m])
            assert np.allclose(got, v @ (v[0] / np.sqrt(w)), rtol=1e-12, atol=1e-14)
        assert np.all(coef_early[i][early:] == 0)
        lowest = min(lowest, np.linalg.eigvalsh(t).min())
    assert smallest == pytest.approx(lowest, rel=1e-12)
    alphas[0, 0, 0] = -10.0  # indefinite
    bad, _, smallest = coefficients(alphas, betas)
    assert smallest < 0 and np.isnan(bad[0, 0]).any() and np.isfinite(bad[1]).all()
    one, _, low = coefficients(np.array([4.0]), np.array([0.0]))  # k = 1
    assert one.tolist() == [0.5] and low == 4.0


def test_settled_steps_reach_the_tolerance_against_the_exact_inverse_square_root():
    """``settled_steps`` picks a step count whose Lanczos result ``H^{-1/2} b`` is within the
    tolerance of the exact one (dense eigh) on a known spectrum, with far fewer steps."""
    import jax
    import jax.numpy as jnp

    from bayesgraph.core.model._krylov import coefficients, combine, settled_steps, tridiagonal

    rng = np.random.default_rng(4)
    n, k, tol = 150, 80, 1e-6
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    spectrum = np.geomspace(1.0, 50.0, n)  # condition number 50 (the pedigree's: about 90)
    exact_sqrt = (q / np.sqrt(spectrum)) @ q.T
    bs = rng.normal(size=(4, n))
    with jax.enable_x64(True):
        hj = jnp.asarray((q * spectrum) @ q.T)
        apply = lambda v: hj @ v  # noqa: E731
        lanczos = jax.jit(jax.vmap(lambda b, k: tridiagonal(apply, b, k), (0, None)),
                          static_argnums=1)
        alphas, betas, _ = map(np.asarray, lanczos(jnp.asarray(bs), k))
        j = settled_steps(alphas, betas, tol)
        assert 10 < j <= 0.6 * k
        assert settled_steps(alphas, betas, tol * 1e-3) > j  # a stricter one needs more
        a, beta, norm = lanczos(jnp.asarray(bs), j)
        c, e, _ = coefficients(np.asarray(a), np.asarray(beta))
        x, _ = jax.vmap(lambda *args: combine(apply, *args))(
            jnp.asarray(bs), a, beta, jnp.asarray(c), jnp.asarray(e), norm)
    want = bs @ exact_sqrt
    error = np.linalg.norm(np.asarray(x) - want, axis=1) / np.linalg.norm(want, axis=1)
    assert np.all(error <= 10 * tol)


# -- the matrix-free variances: control variate, one-pass Lanczos, the curvature check ----------
@pytest.fixture(scope="module")
def wide():
    """A pedigree of 200 persons (301 unobserved scalars) on both paths, and the exact
    ``diag(H^{-1})`` and ``diag(H)`` of the dense one."""
    ped, persons, data = pedigree(200, seed=3)
    dense = MAPFisherModel(ped, data=data, seed=0, check=False).solve()
    free = MAPFisherModel(ped, data=data, seed=1, max_dense_dimension=10, check=False).solve()
    covariance = dense._covariance
    return persons, dense, free, np.diag(covariance), np.diag(np.linalg.inv(covariance))


@pytest.mark.slow
def test_matrix_free_variances_are_unbiased_within_their_monte_carlo_error(wide):
    """The control-variate estimator against the exact Laplace variances: each coordinate's
    error over its own standard error (from the exact ``H``: ``2 s^2 (1 - r) / (1 + r)``
    per draw, ``r = 1 / (s H_ii)``) is standard normal, and the errors are smaller than
    the plain estimator's (``mean u_i^2``, ``2 s^2`` per draw) at the same ``n_samples``."""
    persons, _, free, s, h = wide
    n = 200
    r = 1 / (s * h)  # the share of the variance that is conditional given the rest
    per_draw = 2 * s ** 2 * (1 - r) / (1 + r)
    estimate = free._flat_variances(n)
    independent = r > 1 - 1e-9  # a coordinate alone in its block: exact (affine control)
    np.testing.assert_allclose(estimate[independent], s[independent], rtol=1e-10)
    z = (estimate - s)[~independent] / np.sqrt(per_draw[~independent] / n)
    assert 0.7 < np.mean(z ** 2) < 1.4 and np.max(np.abs(z)) < 5
    # the public path reads the same estimator off the layout
    factors = [p.genetic_factor for p in persons]
    got = np.ravel(free.get_variances(factors, n_samples=n))
    exact = np.ravel(wide[1].get_variances(factors))
    rms = np.sqrt(np.mean((got / exact - 1) ** 2))
    predicted = np.sqrt(np.mean(per_draw / s ** 2) / n)
    assert 0.7 * predicted < rms < 1.4 * predicted
    # the plain estimator from the same model's draws: relative error sqrt(2 / n)
    draws = np.stack([np.ravel(x) for x in free.get_samples(factors, n_samples=n)])
    plain = np.mean((draws - np.ravel(wide[1].get_means(factors))[:, None]) ** 2, axis=1)
    plain_rms = np.sqrt(np.mean((plain / exact - 1) ** 2))
    assert 0.7 * np.sqrt(2 / n) < plain_rms < 1.4 * np.sqrt(2 / n)
    assert rms < 0.8 * plain_rms


def test_one_pass_and_two_pass_lanczos_draw_the_same(fits, monkeypatch):
    """Keeping the Lanczos vectors (one pass of products) or regenerating them (two passes,
    when they would not fit in BASIS_VALUES) gives the same draws."""
    import bayesgraph.core.model.map_fisher as map_fisher

    free = fits[2]
    eps = np.random.default_rng(0).standard_normal((5, free.dimension))
    with free._precision():
        kept = free._flat_draws(eps)
        monkeypatch.setattr(map_fisher, "BASIS_VALUES", 0)
        regenerated = free._flat_draws(eps)
    np.testing.assert_allclose(kept, regenerated, rtol=1e-9, atol=1e-12)


def test_matrix_free_curvature_check_is_conclusive(fits):
    """The check after a matrix-free solve runs (the zero padding of its Lanczos chunk once
    made it 'not finite', silently): on a Gaussian posterior every Hessian is the same, the
    ratios are 1 and the shift is the (tiny) distance of the MAP point from the mode."""
    free = fits[2]
    assert free.curvature.status == "ok"
    assert all(ratio == 1.0 for ratio in free.curvature.variance_ratio.values())
    assert max(free.curvature.shift.values()) < 1e-3


@pytest.mark.slow
def test_matrix_free_check_of_a_non_gaussian_posterior_takes_the_full_path():
    """Where the Hessian changes over the approximation (the wrong local mode of the AR(1)
    model) the shortcut for constant Hessians does not apply and the full check warns, as
    on the dense path."""
    from _vi_graphs import latent_ar1
    from bayesgraph.core.model.map_fisher import VARIANCE_FACTOR
    from bayesgraph.exceptions import ApproximationWarning

    g, data = latent_ar1()
    with pytest.warns(ApproximationWarning, match=r"curvature.*'ar1/s'"):
        model = MAPFisherModel(g, data, seed=0, max_dense_dimension=10, check=True).solve()
    assert not model.dense and model.curvature.status == "ok"
    assert model.curvature.variance_ratio["'ar1/s'"] > VARIANCE_FACTOR


def test_matrix_free_draws_meet_the_accuracy_their_number_asks_for(wide):
    """Each call's draws are within ``lanczos_tolerance(n)`` of the exact ``H^{-1/2} eps``
    (dense eigh of the exact Hessian), the calibrated step count grows as the accuracy asked
    for tightens, and both stay below the ``lanczos_steps`` of the calibrating chunk."""
    from bayesgraph.core.model.map_fisher import lanczos_tolerance

    _, dense, free, _, _ = wide
    evals, evecs = np.linalg.eigh(np.linalg.inv(dense._covariance))
    inverse_sqrt = (evecs / np.sqrt(evals)) @ evecs.T
    eps = np.random.default_rng(7).standard_normal((8, free.dimension))
    want = eps @ inverse_sqrt
    steps = {}
    for n in (100, 20_000):
        tol = lanczos_tolerance(n)
        with free._precision():
            got = free._flat_draws(eps, tol)
        steps[n] = free.lanczos_steps_used
        error = np.linalg.norm(got - want, axis=1) / np.linalg.norm(want, axis=1)
        assert np.all(error <= 3 * tol), (n, tol, error.max())
    assert lanczos_tolerance(100) == 1e-3 and lanczos_tolerance(20_000) == pytest.approx(1e-4)
    assert steps[100] < steps[20_000] < min(free.lanczos_steps, free.dimension)
