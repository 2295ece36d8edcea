"""Wall time of each experiment's profile, run from scratch in a temporary directory.

    python benchmarks/profiles.py [--profile quick|paper] [--experiments NAME ...]

Prints one table: runs, wall time, run-steps per second of training and claims held.
"""

import argparse
import tempfile
import time

import jax

import overparam
from overparam.experiments import EXPERIMENTS, reproduce

overparam.use_all_cpu_cores()  # one XLA device per CPU core, before JAX starts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick", choices=["quick", "paper"])
    ap.add_argument("--experiments", nargs="+", default=None,
                    help="default: every experiment that has the profile")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args()
    names = args.experiments or [n for n in EXPERIMENTS if args.profile in EXPERIMENTS[n].sweeps]
    devices = jax.devices()
    print(f"device: {devices[0].device_kind} x{len(devices)} ({jax.default_backend()}), "
          f"jax {jax.__version__}; profile {args.profile}")
    rows = []
    for name in names:
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            result = reproduce(name, args.profile, out, progress=args.progress)
            wall = time.perf_counter() - t0
        gd = result.runs[result.runs["method"] == "gd"]
        held = sum(c["holds"] for c in result.claims)
        rows.append((name, len(result.runs), len(gd), int(gd["steps"].sum()), wall,
                     f"{held}/{len(result.claims)}"))
        print(f"  {name}: {wall:.0f} s", flush=True)
    print(f"\n{'experiment':<24}{'runs':>6}{'GD runs':>9}{'GD steps':>12}{'wall s':>9}"
          f"{'steps/s':>10}{'claims':>8}")
    for name, n, n_gd, steps, wall, claims in rows:
        print(f"{name:<24}{n:>6}{n_gd:>9}{steps:>12,}{wall:>9.0f}{steps / wall:>10,.0f}"
              f"{claims:>8}")


if __name__ == "__main__":
    main()
