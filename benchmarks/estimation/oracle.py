"""How good can a wait estimate get on a benchmark scenario? The same replay, with the
estimator handed the generator's true parameters instead of what it learned.

    python -m benchmarks.estimation.oracle --scenario calm --seeds 3

The simulated hall (generate.py) follows the same calling policy our forward
simulation models, so with the true service-time distributions, no-show and give-up
rates and priority arrival rates, the median of the simulated waits is (up to Monte
Carlo noise) the best point estimate any estimator could make from what is known at
issue: the error left is the visitors' own randomness, not the model's. Scoring it
beside ours and the baselines tells whether "0.6 × the best baseline" is within reach
of any estimator on that scenario.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
from pathlib import Path

import django

from benchmarks.estimation.run import score


def true_model(sc, hall, at: dt.datetime):
    """The generator's parameters as a HallModel for `hall` at `at`."""
    from benchmarks.estimation import generate as g
    from queueing.estimation.distributions import HallModel, LogNormal
    from queueing.models import Service

    codes = dict(Service.objects.filter(hall_services__hall=hall).values_list("prefix", "pk"))
    hour = at.astimezone(g.TZ)
    h = hour.hour + hour.minute / 60
    steps = [g.OPEN_H + i / 60 for i in range(int((g.LAST_ISSUE_H - g.OPEN_H) * 60))]
    mean = sum(g._rate_profile(x) for x in steps) / len(steps)
    base = sc.per_day / ((g.LAST_ISSUE_H - g.OPEN_H) * 3600)
    rate = base * g._rate_profile(h) / mean if g.OPEN_H <= h < g.LAST_ISSUE_H else 0.0
    share = sc.priority_share
    if sc.priority_morning is not None and h < 11:
        share = sc.priority_morning
    fits = {
        codes[c]: LogNormal(math.log(median), sigma, 1e9)
        for c, (median, sigma) in sc.services.items()
        if c in codes
    }
    return HallModel(
        service_time=fits,
        pooled=next(iter(fits.values())),
        no_show_p=sc.no_show,
        no_show_s=90.0,
        abandon_p=sc.give_up,
        priority_rate={codes[c]: rate * sc.share[c] * share for c in sc.share if c in codes},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scenario", action="append")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/oracle"))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hall_ops.settings")
    django.setup()
    import queueing.estimation as estimation
    from benchmarks.estimation.generate import SCENARIOS, write_scenario
    from queueing.estimation import forward
    from queueing.estimation.replay import replay_files, write_predictions

    learned = estimation.hall_model
    print(
        "| scenario | seed | best baseline | ours | ours ÷ best | oracle | oracle ÷ best "
        "| coverage ours (not [0,0]) | coverage oracle |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.scenario or list(SCENARIOS):
        sc = SCENARIOS[name]
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            folder = args.out / f"{name}-{seed}"
            hall, events = write_scenario(sc, folder, seed=seed)
            scores = {}
            for mode in ("learned", "oracle"):
                if mode == "oracle":

                    def oracle_model(hall, *, at, sc=sc):
                        return true_model(sc, hall, at)

                    estimation.hall_model = oracle_model
                    forward.SPEED_SIGMA = 0.0
                else:
                    estimation.hall_model = learned
                result = replay_files(hall, events)
                path = folder / f"{mode}.csv"
                with path.open("w", newline="") as f:
                    write_predictions(result.predictions, f)
                scores[mode] = score(path)
            estimation.hall_model = learned
            forward.SPEED_SIGMA = 0.12
            best = min(scores["learned"][k] for k in ("ql_s", "qlpool_s", "les_s"))
            ours, oracle = scores["learned"], scores["oracle"]
            print(
                f"| {name} | {seed} | {best:.0f} | {ours['predicted_s']:.0f} "
                f"| {ours['ratio']:.2f} | {oracle['predicted_s']:.0f} "
                f"| {oracle['predicted_s'] / best:.2f} | {ours['coverage_nontrivial']:.0%} "
                f"| {oracle['coverage_nontrivial']:.0%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
