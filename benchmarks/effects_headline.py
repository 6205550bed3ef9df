"""CPU time of the effects headline (`effects --format json` without the detail views): one cohort
against six staggered cohorts at district scale, in the same run.

    .venv/bin/python -m benchmarks.effects_headline [--seeds 109,110] [--repeats 2]

Districts from analytics.synthetic.effects_sim (1,105 compounds, 30 months): one cohort of 65
task forces, or six cohorts of 11 starting two months apart. The headline is
analytics.models.effects.result.estimate(details=False): naive, placebo, the in-place adjusted
effect and the net effect with their intervals, and the empirical-Bayes before-after with its
bootstrap interval. CPU seconds (time.process_time), best of --repeats, so other work on a
shared machine weighs less; the stacked model and the empirical-Bayes part are also timed alone.
Target: the headline under 1 CPU second with six cohorts.
"""

from __future__ import annotations

import argparse
import time

from analytics.models.effects import net
from analytics.models.effects.eb import eb_before_after
from analytics.models.effects.estimates import adjusted_effect
from analytics.models.effects.result import estimate
from analytics.models.effects.stacking import build_stacks
from analytics.synthetic import effects_sim
from analytics.synthetic.effects_sim import Wave

ONE = [Wave(12, 17, 18, 65, -0.3)]
SIX = [Wave(start - 6, start - 1, start, 11, -0.3) for start in (12, 14, 16, 18, 20, 22)]


def _best(fn, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        started = time.process_time()
        fn()
        runs.append(time.process_time() - started)
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="109,110")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"{'seed':>5} {'cohorts':>8} {'headline':>9} {'model':>7} {'EB':>6}  (CPU s)")
    for seed in (int(s) for s in args.seeds.split(",")):
        for label, waves in (("one", ONE), ("six", SIX)):
            panel, cohorts = effects_sim.to_panel(effects_sim.simulate(seed=seed, waves=waves))

            def model(panel=panel, cohorts=cohorts) -> None:
                stacks = build_stacks(panel, cohorts, exclude=net.barred_neighbours(panel, cohorts)[0])
                adjusted_effect(panel, cohorts, stacks)
                net.net_effect(panel, cohorts)

            headline = _best(lambda p=panel, c=cohorts: estimate(p, c, [], details=False), args.repeats)
            model_s = _best(model, args.repeats)
            eb_s = _best(lambda p=panel, c=cohorts, s=seed: eb_before_after(p, c, seed=s), args.repeats)
            print(f"{seed:>5} {label:>8} {headline:>9.2f} {model_s:>7.2f} {eb_s:>6.2f}")


if __name__ == "__main__":
    main()
