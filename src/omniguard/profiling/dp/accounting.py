"""Privacy accounting with Google's ``dp-accounting``: the PLD accountant gives the headline
epsilon (tight), the RDP accountant a conservative cross-check. Every figure carries its delta,
its privacy unit and the mechanism it was computed for.

The same functions run before a job (from the spec and the partner's row count, so the partner
can approve it) and after it (from the steps that actually ran).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import dp_accounting as dpa
from dp_accounting import pld, rdp

from omniguard.errors import InputError

UNIT_CUSTOMER = "customer (all rows of one customer in one partner's dataset)"
# Coarser grid for the search (pessimistic, so never below the fine value), fine grid for the headline.
_SEARCH_GRID = 1e-3
_HEADLINE_GRID = 1e-4

logging.getLogger("absl").setLevel(logging.ERROR)  # RDP's "failed to converge" orders are excluded anyway


@dataclass(frozen=True)
class PrivacyGuarantee:
    """(epsilon, delta)-DP of one mechanism for one privacy unit."""

    epsilon: float  # PLD accountant (headline)
    delta: float
    unit: str
    mechanism: str
    noise_multiplier: float
    sampling_rate: float
    steps: int
    epsilon_rdp: float  # RDP accountant (conservative cross-check)
    accountant: str = "dp-accounting PLD (RDP cross-check)"

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        return (f"epsilon {self.epsilon:.3g} at delta {self.delta:g} per {self.unit.split(' (')[0]} "
                f"(PLD; RDP {self.epsilon_rdp:.3g}) for {self.mechanism}")


def dpsgd_event(sampling_rate: float, noise_multiplier: float, steps: int) -> dpa.DpEvent:
    """``steps`` Poisson-sampled Gaussian steps: DP-SGD's event."""
    gaussian = dpa.GaussianDpEvent(noise_multiplier)
    if sampling_rate >= 1.0:
        return dpa.SelfComposedDpEvent(gaussian, steps)
    return dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(sampling_rate, gaussian), steps)


def gaussian_event(noise_multiplier: float, releases: int) -> dpa.DpEvent:
    """``releases`` Gaussian mechanisms on the full data (the k-means statistics)."""
    return dpa.SelfComposedDpEvent(dpa.GaussianDpEvent(noise_multiplier), releases)


def pld_epsilon(event: dpa.DpEvent, delta: float, grid: float = _HEADLINE_GRID) -> float:
    acc = pld.PLDAccountant(value_discretization_interval=grid)
    acc.compose(event)
    return float(acc.get_epsilon(delta))


def rdp_epsilon(event: dpa.DpEvent, delta: float) -> float:
    acc = rdp.RdpAccountant()
    acc.compose(event)
    return float(acc.get_epsilon(delta))


def _check(delta: float, *noise: float) -> None:
    if not 0 < delta < 1:
        raise InputError("delta must be between 0 and 1 (for example 1e-5)")
    if any(not (z > 0 and math.isfinite(z)) for z in noise):
        raise InputError("the noise multiplier must be a positive number")


def dpsgd_guarantee(sampling_rate: float, noise_multiplier: float, steps: int, delta: float,
                    unit: str = UNIT_CUSTOMER) -> PrivacyGuarantee:
    _check(delta, noise_multiplier)
    event = dpsgd_event(sampling_rate, noise_multiplier, steps)
    return PrivacyGuarantee(
        epsilon=pld_epsilon(event, delta), delta=delta, unit=unit,
        mechanism=f"DP-SGD: {steps} steps, Poisson sampling q={sampling_rate:.4g}, Gaussian z={noise_multiplier:.4g}",
        noise_multiplier=noise_multiplier, sampling_rate=sampling_rate, steps=steps,
        epsilon_rdp=rdp_epsilon(event, delta))


def gaussian_guarantee(noise_multiplier: float, releases: int, delta: float,
                       unit: str = UNIT_CUSTOMER) -> PrivacyGuarantee:
    _check(delta, noise_multiplier)
    event = gaussian_event(noise_multiplier, releases)
    return PrivacyGuarantee(
        epsilon=pld_epsilon(event, delta), delta=delta, unit=unit,
        mechanism=f"Gaussian mechanism: {releases} releases, z={noise_multiplier:.4g}",
        noise_multiplier=noise_multiplier, sampling_rate=1.0, steps=releases,
        epsilon_rdp=rdp_epsilon(event, delta))


def composed_epsilon(mechanisms: Sequence[tuple[float, float, int]], delta: float) -> float:
    """PLD epsilon of a person who is a customer of every listed partner, whose losses compose.
    Each mechanism is (sampling rate, noise multiplier, steps); a rate of 1 is a plain Gaussian."""
    acc = pld.PLDAccountant(value_discretization_interval=_HEADLINE_GRID)
    for q, z, steps in mechanisms:
        acc.compose(dpsgd_event(q, z, steps))
    return float(acc.get_epsilon(delta))


def calibrate_noise(target_epsilon: float, delta: float, event_for: Callable[[float], dpa.DpEvent],
                    *, low: float = 0.3, high: float = 500.0, rel_tol: float = 0.01) -> float:
    """The smallest noise multiplier (within ``rel_tol``) whose PLD epsilon is at most the target.

    Bisection in log-space, bracketed with the cheap RDP bound (never below PLD), searched on a
    coarse pessimistic PLD grid, and confirmed on the headline grid, so the returned z always
    meets the target as reported."""
    if not (target_epsilon > 0 and math.isfinite(target_epsilon)):
        raise InputError("the target epsilon must be a positive number")
    _check(delta)
    if rdp_epsilon(event_for(high), delta) > target_epsilon and pld_epsilon(event_for(high), delta, _SEARCH_GRID) > target_epsilon:
        raise InputError(f"epsilon {target_epsilon:g} at delta {delta:g} is out of reach for this job "
                         "(fewer rounds, a smaller batch or a larger epsilon would help)")
    # RDP >= PLD, so the z where RDP meets the target is an upper bracket for the PLD search; a
    # coarse one is enough. PLD's z is rarely below half of it; step down until it is bracketed.
    hi, lo = high, low
    while hi / lo > 1.05:
        mid = math.sqrt(lo * hi)
        if rdp_epsilon(event_for(mid), delta) <= target_epsilon:
            hi = mid
        else:
            lo = mid
    lo = hi / 2
    while lo > low and pld_epsilon(event_for(lo), delta, _SEARCH_GRID) <= target_epsilon:
        hi, lo = lo, max(low, lo / 2)
    while hi / lo > 1 + rel_tol:
        mid = math.sqrt(lo * hi)
        if pld_epsilon(event_for(mid), delta, _SEARCH_GRID) <= target_epsilon:
            hi = mid
        else:
            lo = mid
    while pld_epsilon(event_for(hi), delta) > target_epsilon:  # pragma: no cover - the coarse grid is pessimistic
        hi *= 1 + rel_tol
    return hi
