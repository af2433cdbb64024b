"""Issue 6 benchmark: joint profiling, federated and with differential privacy.

    .venv/bin/python benchmarks/bench_federated.py [--seeds 10] [--only caravan,scale,kmeans,timing] [--tune]

* Propensity on real customers (CoIL-2000 Caravan from the islp wheel), split across 5 partners
  by customer main type (non-IID, horizontal): each partner alone, pooled (central, non-private),
  federated (FedAvg) and federated + record-level DP-SGD at epsilon 1, 3, 8 per customer (delta
  1e-5, PLD accountant): AUC and conversion in the top 20% targeted, mean and 95% CI over seeds.
* The seed claims ("+35% new-product prediction", "DP costs about 2 points of conversion").
* Scale: the synthetic retail generator, 10 partners x 10,000 customers.
* k-means: agreement (ARI) with centralised k-means (scikit-learn, best of 10 k-means++ starts),
  with and without DP.
* Time of a whole job on the Deployment Engine (real processes on loopback) and in simulation (Ray),
  Ray start-up separately, and the in-process loop of the same job as the baseline.

Hyper-parameters are fixed below; ``--tune`` re-derives them on synthetic data shaped like
Caravan (never on the evaluation data). The training loops are the library's own
(``omniguard.profiling.models``), which a test shows equal to the Flower apps' result.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time

import numpy as np
from scipy import stats

from omniguard.profiling import datasets, metrics, models
from omniguard.profiling.dp import accounting

DELTA = 1e-5
EPSILONS = (1.0, 3.0, 8.0)
# Chosen by `--tune` on Caravan-shaped synthetic data (see RESULTS.md): best mean AUC over 3 worlds.
PLAIN = dict(learning_rate=0.5, epochs=3, rounds=10, batch_size=64, clip=None)
PRIVATE = {**PLAIN, "clip": 2.0}  # the same training budget for every arm; DP adds clipping and noise
KMEANS = dict(k=5, rounds=5, spread=0.1, clip_factor=0.5)  # clip = clip_factor * sqrt(features)
_Z: dict[tuple, float] = {}


def ci(values) -> tuple[float, float]:
    """Mean and 95% t-interval half-width."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))


def fmt(values, pct: bool = False) -> str:
    m, h = ci(values)
    return f"{100 * m:.1f}% ± {100 * h:.1f}" if pct else f"{m:.3f} ± {h:.3f}"


# --- training arms ----------------------------------------------------------------------------------


def noise_for(eps: float, q: float, steps: int) -> float:
    key = (eps, round(q, 6), steps)
    if key not in _Z:
        _Z[key] = accounting.calibrate_noise(eps, DELTA, lambda z: accounting.dpsgd_event(q, z, steps))
    return _Z[key]


def configs(parts, hp: dict, eps: float | None) -> list[models.SGDConfig]:
    out = []
    for X, _ in parts:
        cfg = models.SGDConfig(epochs=hp["epochs"], batch_size=hp["batch_size"], learning_rate=hp["learning_rate"],
                               clip=hp["clip"] if eps else None)
        if eps:
            z = noise_for(eps, cfg.sampling_rate(len(X)), cfg.steps(len(X)) * hp["rounds"])
            cfg = models.SGDConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
                                   clip=cfg.clip, noise_multiplier=z)
        out.append(cfg)
    return out


def train(parts, hp: dict, eps: float | None, seed: int) -> np.ndarray:
    return models.train_federated_propensity(parts, configs(parts, hp, eps), hp["rounds"],
                                             seeds=[seed * 100 + i for i in range(len(parts))])


def arms(train_parts, seed: int, plain: dict, private: dict) -> dict[str, np.ndarray]:
    w = {"pooled": train([(np.vstack([p[0] for p in train_parts]), np.concatenate([p[1] for p in train_parts]))],
                         plain, None, seed),
         "federated": train(train_parts, plain, None, seed)}
    for i, p in enumerate(train_parts):
        w[f"alone:{i}"] = train([p], plain, None, seed + 7919 * (i + 1))
    for eps in EPSILONS:
        w[f"federated+DP eps={eps:g}"] = train(train_parts, private, eps, seed)
    return w


def score(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    s = models.predict_proba(w, X)
    return metrics.roc_auc(y, s), metrics.top_share_conversion(y, s, 0.2)


# --- data ---------------------------------------------------------------------------------------------


def caravan_split(seed: int):
    """Partners by customer main type; an exact 70/30 split inside each partner (fixed sizes, so
    each partner's sampling rate, hence its calibrated noise, is the same for every seed)."""
    df = datasets.load_caravan()
    feats = [c for c in df.columns if c != "Purchase"]
    X = df[feats].to_numpy(float)
    lo, hi = X.min(axis=0), X.max(axis=0)  # the codebook's ranges (public), here read off the table
    X = models.scale_to_box(X, lo, np.where(hi > lo, hi, lo + 1))
    y = df["Purchase"].to_numpy(float)
    rng = np.random.default_rng(seed)
    tr, te = [], []
    for types in datasets.CARAVAN_PARTNERS.values():
        idx = rng.permutation(np.flatnonzero(np.isin(df["MOSHOOFD"], types)))
        cut = round(0.7 * len(idx))
        tr.append((X[idx[:cut]], y[idx[:cut]]))
        te.append((X[idx[cut:]], y[idx[cut:]]))
    return tr, te


def synthetic_split(world: int, seed: int, partners: int, customers: int, **plan):
    """The synthetic world ``world`` (customers, segments, propensity), split 70/30 by ``seed``."""
    frames = datasets.retail_customers(datasets.RetailPlan(partners=partners, customers=customers, seed=world, **plan))
    cols = [c for c in frames[0].columns if c not in ("member_id", "segment", datasets.RETAIL_LABEL)]
    bounds = {**datasets.RETAIL_FEATURES, **{c: (0.0, 1.0) for c in cols if c.startswith("share_cat_")}}
    lo = np.array([bounds[c][0] for c in cols])
    hi = np.array([bounds[c][1] for c in cols])
    rng = np.random.default_rng([world, seed])
    tr, te = [], []
    for f in frames:
        X = models.scale_to_box(f[cols].to_numpy(float), lo, hi)
        y = f[datasets.RETAIL_LABEL].to_numpy(float)
        idx = rng.permutation(len(X))
        cut = round(0.7 * len(X))
        tr.append((X[idx[:cut]], y[idx[:cut]]))
        te.append((X[idx[cut:]], y[idx[cut:]]))
    return tr, te


CARAVAN_LIKE = dict(extra_features=77, base_logit=-3.8, signal=1.0, label_shift=0.5)


# --- propensity ---------------------------------------------------------------------------------------


def propensity(tr_te_for_seed, seeds: int, label: str) -> dict:
    """Every arm on every seed, scored on each partner's own test customers and on the pooled test."""
    own: dict[str, list] = {}
    pooled: dict[str, list] = {}
    for seed in range(seeds):
        tr, te = tr_te_for_seed(seed)
        Xp, yp = np.vstack([t[0] for t in te]), np.concatenate([t[1] for t in te])
        w = arms(tr, seed, PLAIN, PRIVATE)
        for name, weights in w.items():
            pooled.setdefault(name, []).append(score(weights, Xp, yp))
            if name.startswith("alone:"):
                i = int(name.split(":")[1])
                own.setdefault(name, []).append(score(weights, *te[i]))
            else:
                own.setdefault(name, []).append([score(weights, *t) for t in te])
        print(f"  {label} seed {seed}: done", file=sys.stderr)
    return {"own": own, "pooled": pooled, "partners": len(tr), "rows": [len(t[0]) for t in tr]}


def report_propensity(r: dict, title: str) -> list[str]:
    P = r["partners"]
    own, pooled = r["own"], r["pooled"]
    alone_auc = np.array([[own[f"alone:{i}"][s][0] for i in range(P)] for s in range(len(own["alone:0"]))])
    alone_conv = np.array([[own[f"alone:{i}"][s][1] for i in range(P)] for s in range(len(own["alone:0"]))])
    weakest = int(np.argmin(alone_auc.mean(axis=0)))
    lines = [f"### {title}", "", f"Train rows per partner: {r['rows']}.", "",
             "| arm | AUC (own customers, mean over partners) | conv. top 20% (own) | AUC (pooled test) | conv. top 20% (pooled) |",
             "|---|---|---|---|---|"]
    lines.append(f"| each partner alone (average) | {fmt(alone_auc.mean(axis=1))} | {fmt(alone_conv.mean(axis=1), True)} | "
                 f"{fmt([np.mean([pooled[f'alone:{i}'][s][0] for i in range(P)]) for s in range(len(alone_auc))])} | "
                 f"{fmt([np.mean([pooled[f'alone:{i}'][s][1] for i in range(P)]) for s in range(len(alone_auc))], True)} |")
    own_mean = {}
    for name in ["pooled", "federated", *[f"federated+DP eps={e:g}" for e in EPSILONS]]:
        a = np.array([[x[0] for x in seed] for seed in own[name]])
        c = np.array([[x[1] for x in seed] for seed in own[name]])
        own_mean[name] = (a, c)
        pa, pc = zip(*pooled[name], strict=True)
        label = name if "DP" not in name else f"{name} (δ=1e-5, per customer)"
        lines.append(f"| {label} | {fmt(a.mean(axis=1))} | {fmt(c.mean(axis=1), True)} | {fmt(pa)} | {fmt(pc, True)} |")
    lines += ["", "| partner | alone: AUC (own) | federated: AUC (own) | alone: conv. (own) | federated: conv. (own) | fed. + DP ε=3: conv. (own) |",
              "|---|---|---|---|---|---|"]
    fa, fc = own_mean["federated"]
    dc = own_mean["federated+DP eps=3"][1]
    for i in range(P):
        lines.append(f"| {i + 1}{' (weakest)' if i == weakest else ''} | {fmt(alone_auc[:, i])} | {fmt(fa[:, i])} | "
                     f"{fmt(alone_conv[:, i], True)} | {fmt(fc[:, i], True)} | {fmt(dc[:, i], True)} |")
    pooled_auc = np.array([x[0] for x in pooled["pooled"]])
    fed_auc = np.array([x[0] for x in pooled["federated"]])
    lines += ["", "Claims and targets (paired over seeds, 95% CI):", ""]
    lines.append(f"* federated / pooled AUC (pooled test): {fmt(fed_auc / pooled_auc)} (target ≥ 0.98)")
    avg_gain_c = (fc.mean(axis=1) - alone_conv.mean(axis=1)) / alone_conv.mean(axis=1)
    weak_gain_c = (fc[:, weakest] - alone_conv[:, weakest]) / np.maximum(alone_conv[:, weakest], 1e-9)
    lines.append(f"* conversion gain of federated over the average partner alone: {fmt(avg_gain_c, True)} relative; "
                 f"over the weakest partner: {fmt(weak_gain_c, True)} (seed claim: +35%)")
    lines.append(f"* AUC gain of federated over the average partner alone: {fmt(fa.mean(axis=1) - alone_auc.mean(axis=1))}; "
                 f"over the weakest: {fmt(fa[:, weakest] - alone_auc[:, weakest])}")
    for e in EPSILONS:
        a, c = own_mean[f"federated+DP eps={e:g}"]
        lines.append(f"* ε={e:g}: DP cost in conversion {fmt(100 * (fc.mean(axis=1) - c.mean(axis=1)))} points "
                     f"(seed claim: about 2); DP federated minus average partner alone: AUC "
                     f"{fmt(a.mean(axis=1) - alone_auc.mean(axis=1))}, conversion {fmt(100 * (c.mean(axis=1) - alone_conv.mean(axis=1)))} points")
    return [*lines, ""]


# --- k-means ------------------------------------------------------------------------------------------


def kmeans_ari(tr_for_seed, seeds: int, label: str) -> list[str]:
    from sklearn.cluster import KMeans

    rows: dict[str, list] = {}
    for seed in range(seeds):
        parts = tr_for_seed(seed)
        pooled = np.vstack(parts)
        central = KMeans(KMEANS["k"], n_init=10, random_state=seed).fit(pooled)
        ref = central.labels_
        clip = KMEANS["clip_factor"] * math.sqrt(pooled.shape[1])
        for eps in (None, *EPSILONS):
            z = 0.0 if eps is None else accounting.calibrate_noise(
                eps, DELTA, lambda s: accounting.gaussian_event(s, KMEANS["rounds"] + 1))
            c = models.train_federated_kmeans(parts, KMEANS["k"], KMEANS["rounds"], clip=clip,
                                              noise_multipliers=[z] * len(parts), seeds=[seed * 100 + i for i in range(len(parts))],
                                              init_seed=seed, spread=KMEANS["spread"])
            name = "federated, no DP" if eps is None else f"federated + DP ε={eps:g} (δ=1e-5, per customer)"
            rows.setdefault(name, []).append((metrics.adjusted_rand_index(ref, models.assign(pooled, c)),
                                              models.inertia(pooled, c) / central.inertia_))
    lines = [f"### k-means segments: {label}", "", "| arm | ARI vs centralised | inertia / centralised |", "|---|---|---|"]
    lines += [f"| {k} | {fmt([x[0] for x in v])} | {fmt([x[1] for x in v])} |" for k, v in rows.items()]
    return [*lines, ""]


# --- tuning on synthetic data -------------------------------------------------------------------------


def tune() -> None:
    """Grid search on Caravan-shaped synthetic worlds (3 seeds). Every arm trains with the same
    budget (learning rate, epochs, rounds, batch), chosen by the mean AUC of the plain and the DP
    (ε=3) federated arms; the clipping norm is chosen for the DP arm at that budget."""
    worlds = [synthetic_split(100 + s, s, 5, 1100, **CARAVAN_LIKE) for s in range(3)]

    def auc(hp: dict, eps: float | None) -> float:
        out = []
        for s, (tr, te) in enumerate(worlds):
            w = train(tr, hp, eps, s)
            out.append(score(w, np.vstack([t[0] for t in te]), np.concatenate([t[1] for t in te]))[0])
        return float(np.mean(out))

    results = []
    for lr, ep, rounds, batch in itertools.product([0.5, 2.0], [1, 3], [5, 10], [64, 256]):
        hp = dict(learning_rate=lr, epochs=ep, rounds=rounds, batch_size=batch)
        plain = auc({**hp, "clip": None}, None)
        dp_auc, clip = max((auc({**hp, "clip": c}, 3.0), c) for c in (0.5, 2.0))
        results.append(((plain + dp_auc) / 2, plain, dp_auc, hp, clip))
    best = max(results, key=lambda r: r[0])
    print(f"best shared budget: {best[3]}, DP clip {best[4]}: plain AUC {best[1]:.4f}, DP eps=3 AUC {best[2]:.4f}")
    from sklearn.cluster import KMeans

    kworlds = [np.vstack([t[0] for t in synthetic_split(200 + s, s, 5, 2000, **plan)[0]])
               for s in range(2) for plan in ({}, CARAVAN_LIKE)]  # both shapes: 8 and 85 features
    parts = [np.array_split(w, 5) for w in kworlds]
    refs = [KMeans(5, n_init=10, random_state=s).fit(w).labels_ for s, w in enumerate(kworlds)]
    scores = []
    for rounds, spread, factor in itertools.product([5, 10, 20], [0.1, 0.2, 0.3], [0.25, 0.5, 1.0]):
        z = accounting.calibrate_noise(3.0, DELTA, lambda s, r=rounds: accounting.gaussian_event(s, r + 1))
        ari = [metrics.adjusted_rand_index(ref, models.assign(w, models.train_federated_kmeans(
            p, 5, rounds, clip=factor * math.sqrt(w.shape[1]), noise_multipliers=[z] * 5, seeds=[s] * 5, init_seed=s,
            spread=spread))) for s, (w, p, ref) in enumerate(zip(kworlds, parts, refs, strict=True))]
        scores.append((float(np.mean(ari)), rounds, spread, factor))
    best = max(scores)
    print(f"best k-means at DP eps=3: mean ARI {best[0]:.3f} with rounds={best[1]}, spread={best[2]}, "
          f"clip_factor={best[3]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--only", default="caravan,scale,kmeans,timing")
    ap.add_argument("--timing-reps", type=int, default=3)
    ap.add_argument("--tune", action="store_true")
    args = ap.parse_args()
    if args.tune:
        tune()
        return
    only = set(args.only.split(","))
    out = ["## Issue 6: joint profiling", "",
           f"Command: `.venv/bin/python benchmarks/bench_federated.py --seeds {args.seeds}`; mean ± 95% CI over seeds "
           "(random 70/30 splits inside each partner, fresh training randomness), DP per customer at δ = 1e-5 "
           "(dp-accounting PLD; noise calibrated by each partner to its own row count).", "",
           f"Hyper-parameters (from `--tune` on synthetic data): plain {PLAIN}; DP {PRIVATE}; k-means {KMEANS}.", ""]
    t0 = time.perf_counter()
    if "caravan" in only:
        r = propensity(lambda s: caravan_split(s), args.seeds, "caravan")
        out += report_propensity(r, "Propensity on CoIL-2000 Caravan: 5 partners by customer main type")
    few = max(3, args.seeds // 2)  # the 100,000-customer runs take about a minute a seed
    if "scale" in only:
        r = propensity(lambda s: synthetic_split(1000, s, 10, 10_000), few, "scale")
        out += report_propensity(r, f"Propensity at scale: synthetic retail, 10 partners x 10,000 customers "
                                    f"(one generated world, {few} splits)")
    if "kmeans" in only:
        out += kmeans_ari(lambda s: [t[0] for t in synthetic_split(2000, s, 10, 10_000)[0]], few,
                          f"synthetic retail, 10 partners x 10,000 customers, k = 5 (one world, {few} seeds)")
        out += kmeans_ari(lambda s: [t[0] for t in caravan_split(s)[0]], args.seeds, "Caravan, 5 partners, k = 5")
    if "timing" in only:
        from federated_jobs import timing  # a sibling module of this script

        out += timing(args.timing_reps)
    out.append(f"Benchmark wall time: {time.perf_counter() - t0:.0f} s.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
