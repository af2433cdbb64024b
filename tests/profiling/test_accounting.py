"""Privacy accounting against dp-accounting used directly, and noise calibration."""

from __future__ import annotations

import dp_accounting as dpa
import pytest
from dp_accounting import pld, rdp
from profiling_helpers import spec_text

from omniguard.errors import InputError
from omniguard.profiling.dp import accounting
from omniguard.profiling.federated.partner import plan_privacy
from omniguard.profiling.federated.spec import parse_spec


def _independent(event, delta):
    p = pld.PLDAccountant()
    p.compose(event)
    r = rdp.RdpAccountant()
    r.compose(event)
    return p.get_epsilon(delta), r.get_epsilon(delta)


@pytest.mark.parametrize(("q", "z", "steps"), [(0.01, 1.1, 500), (0.064, 1.4, 47), (1.0, 3.0, 20)])
def test_dpsgd_guarantee_matches_dp_accounting(q, z, steps):
    g = accounting.dpsgd_guarantee(q, z, steps, 1e-5)
    gaussian = dpa.GaussianDpEvent(z)
    event = dpa.SelfComposedDpEvent(gaussian if q == 1.0 else dpa.PoissonSampledDpEvent(q, gaussian), steps)
    eps_pld, eps_rdp = _independent(event, 1e-5)
    assert g.epsilon == pytest.approx(eps_pld, rel=1e-9)
    assert g.epsilon_rdp == pytest.approx(eps_rdp, rel=1e-9)
    assert g.epsilon <= g.epsilon_rdp  # PLD is the tighter bound
    assert g.delta == 1e-5 and "customer" in g.unit


def test_research_note_figure_is_reproduced():
    # notes/federated-dp.md section 3: 10k customers, batch 100, 5 epochs, z=1.1: PLD 1.08, RDP 1.32
    g = accounting.dpsgd_guarantee(0.01, 1.1, 500, 1e-5)
    assert round(g.epsilon, 2) == 1.08 and round(g.epsilon_rdp, 2) == 1.32


@pytest.mark.parametrize("target", [0.7, 3.0])
def test_calibration_meets_the_target_and_is_nearly_tight(target):
    def event(z):
        return accounting.dpsgd_event(0.05, z, 60)

    z = accounting.calibrate_noise(target, 1e-5, event)
    assert accounting.pld_epsilon(event(z), 1e-5) <= target
    assert accounting.pld_epsilon(event(z * 0.97), 1e-5) > target  # 3% less noise would break it


def test_out_of_reach_target_and_bad_delta_are_input_errors():
    with pytest.raises(InputError, match="out of reach"):
        accounting.calibrate_noise(1e-3, 1e-5, lambda z: accounting.gaussian_event(z, 1000), high=5.0)
    with pytest.raises(InputError, match="delta"):
        accounting.dpsgd_guarantee(0.1, 1.0, 10, 0.0)


def test_plan_before_the_job_uses_spec_and_rows():
    spec = parse_spec(spec_text(rounds=3, extra="", privacy="epsilon = 2.0\ndelta = 1e-5"))
    z, q, per_round, g = plan_privacy(spec, 1000)
    assert q == pytest.approx(64 / 1000) and per_round == 16
    assert g.steps == 3 * 16 and g.epsilon <= 2.0 and g.noise_multiplier == z
    again = accounting.dpsgd_guarantee(q, z, 48, 1e-5)
    assert again.epsilon == pytest.approx(g.epsilon)
    seg = parse_spec(spec_text(task="segments", rounds=4, privacy="noise_multiplier = 4.0"))
    z, q, per_round, g = plan_privacy(seg, 1000)
    assert (z, q, per_round, g.steps) == (4.0, 1.0, 1, 5)  # the mean round plus 4 Lloyd rounds
    assert g.epsilon == pytest.approx(_independent(dpa.SelfComposedDpEvent(dpa.GaussianDpEvent(4.0), 5), 1e-5)[0])
