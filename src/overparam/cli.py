"""Command line: ``overparam list | reproduce NAME|all | run FILE.toml | report [DIR]``.

Thin by design: it parses flags and calls :mod:`overparam.experiments`. Bad input prints one
line naming the field or file and the reason, and exits with code 2, before anything is written.
"""

import argparse
import sys

EXIT_BAD_INPUT = 2
EXIT_CLAIMS_FAIL = 1
ALL = "all"  # reproduce every experiment, then write the report


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit code 2
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see 'overparam --help')\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="overparam", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="list the experiments, one line each")
    common = _Parser(add_help=False)
    common.add_argument("--out", default="results", help="results directory (default: results)")
    common.add_argument("--max-batch", type=_positive_int, default=None,
                        help="most runs in one compiled batch "
                             "(default: 8 per CPU core, 4096 on a GPU)")
    common.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    common.add_argument("--executor", default="local",
                        help="where runs execute: a registered executor (default: local)")
    common.add_argument("--address", default=None,
                        help="with --executor ray: the cluster's address (default: "
                             "$OVERPARAM_RAY_ADDRESS, else a local cluster for the sweep)")
    slurm = common.add_argument_group("with --executor slurm")
    slurm.add_argument("--slurm-partition", default=None, help="the partition (default: the "
                       "cluster's)")
    slurm.add_argument("--slurm-time", type=_positive_int, default=None, metavar="MIN",
                       help="minutes per array task (default 60)")
    slurm.add_argument("--slurm-mem-gb", type=_positive_int, default=None, metavar="GB",
                       help="memory per array task (default 8)")
    slurm.add_argument("--slurm-cpus", type=_positive_int, default=None,
                       help="CPUs per array task (default 1)")
    slurm.add_argument("--slurm-gpus", type=int, default=None, help="GPUs per array task "
                       "(default 0)")
    slurm.add_argument("--slurm-array-parallelism", type=_positive_int, default=None,
                       metavar="N", help="most array tasks running at once (default 64)")
    common.add_argument("--compile-cache", default=None, metavar="DIR",
                        help="where compiled programs are kept, or 'off' (default: "
                             "$OVERPARAM_COMPILATION_CACHE or ~/.cache/overparam/jax)")
    common.add_argument("--check", action="store_true",
                        help="exit with code 1 when a claim does not hold (or when one "
                             "marked as a known mismatch holds)")
    r = sub.add_parser("reproduce", parents=[common], help="reproduce a paper figure")
    r.add_argument("name", help="experiment name (see 'overparam list'), or 'all': every "
                                "experiment with the profile, then the report")
    r.add_argument("--profile", default="quick", help="quick (minutes on a CPU) or paper")
    r.add_argument("--solver", choices=["jax", "cvxpy"], default=None,
                   help="backend of the nuclear-norm baseline (default: jax)")
    u = sub.add_parser("run", parents=[common], help="run a sweep from a TOML file")
    u.add_argument("file", help="sweep TOML file")
    h = sub.add_parser("report", help="one self-contained HTML page of every experiment and "
                                      "claim under a results directory")
    h.add_argument("results", nargs="?", default="results",
                   help="results directory (default: results)")
    h.add_argument("--out", default=None,
                   help="HTML file to write (default: RESULTS/report.html)")
    return p


def _print_claims(result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not result.claims:
        console.print(f"wrote {result.directory} ({len(result.runs)} runs; no claims declared)")
        return
    table = Table(title=f"claims: {result.directory}/claims.json")
    for col in ("claim", "measured", "paper", "holds"):
        table.add_column(col, overflow="fold")
    for c in result.claims:
        m = c["measured"]
        measured = (f"{m['stat']} {m['measure']} = {m['value']:.3g} {c.get('threshold', '')}"
                    if "stat" in m else ", ".join(f"{k}: {v}" for k, v in m.items()))
        known = c.get("expected", True) is False
        verdict = "[green]yes[/]" if c["holds"] else "[red]NO[/]"
        table.add_row(c["name"], measured, c.get("paper", ""),
                      verdict + (" [yellow](known mismatch)[/]" if known else ""))
    console.print(table)
    held = sum(c["holds"] for c in result.claims)
    known = sum(c.get("expected", True) is False for c in result.claims)
    console.print(f"{held}/{len(result.claims)} claims hold"
                  + (f" ({known} known not to reproduce: see claims.json)" if known else "")
                  + "; figures: " + ", ".join(p.name for p in result.figures))


SLURM_FLAGS = {"partition": "partition", "time": "time_min", "mem_gb": "mem_gb",
               "cpus": "cpus_per_task", "gpus": "gpus_per_node",
               "array_parallelism": "array_parallelism"}


def _slurm_options(args) -> dict:
    """The --slurm-* flags given, by flag name."""
    return {f: getattr(args, f"slurm_{f}") for f in SLURM_FLAGS
            if getattr(args, f"slurm_{f}", None) is not None}


def _slurm_executor_options(args) -> dict:
    return {SLURM_FLAGS[f]: v for f, v in _slurm_options(args).items()}


def _check_light(args) -> None:
    """What can be checked without JAX, pandas or matplotlib: the experiment's name and
    profile, or the sweep file. Raises OverparamError."""
    from overparam import registry
    from overparam.errors import ConfigError, closest

    if args.executor not in registry.EXECUTORS:
        raise ConfigError(f"--executor: unknown executor {args.executor!r}"
                          f"{closest(args.executor, registry.EXECUTORS)} (one of "
                          f"{', '.join(map(repr, registry.EXECUTORS))})")
    if args.address is not None and args.executor != "ray":
        raise ConfigError(f"--address: only with --executor ray, not {args.executor!r}")
    for flag, value in _slurm_options(args).items():
        if args.executor != "slurm":
            raise ConfigError(f"--slurm-{flag.replace('_', '-')}: only with --executor slurm, "
                              f"not {args.executor!r}")
    if args.executor == "slurm":
        from overparam.sweep._slurm import SlurmExecutor

        try:  # its values checked here, named by their flags
            SlurmExecutor(**_slurm_executor_options(args))
        except ConfigError as e:
            message = str(e)
            for flag, field in SLURM_FLAGS.items():
                message = message.replace(f"executor {field}:",
                                          f"--slurm-{flag.replace('_', '-')}:")
            raise ConfigError(message) from None
    if args.command == "reproduce" and args.name == ALL:
        from overparam.experiments._catalog import CATALOG

        profiles = sorted({p for e in CATALOG.values() for p in e.profiles})
        if args.profile not in profiles:
            raise ConfigError(f"--profile: unknown profile {args.profile!r}; choose from "
                              f"{profiles}{closest(args.profile, profiles)}")
    elif args.command == "reproduce":
        from overparam.experiments._catalog import check_name

        entry = check_name(args.name)
        if args.profile not in entry.profiles:
            raise ConfigError(f"--profile: unknown profile {args.profile!r}; choose from "
                              f"{sorted(entry.profiles)}{closest(args.profile, entry.profiles)}")
    else:
        from overparam.experiments._load import load_sweep

        load_sweep(args.file)


def _report(results: str, out: str | None) -> int:
    from overparam.errors import OverparamError
    from overparam.report import write_report

    try:
        path = write_report(results, out)
    except OverparamError as e:
        print("error: " + " ".join(str(e).splitlines()), file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {path}")
    return 0


def _reproduce_all(args, opts) -> int:
    """Every experiment that has the profile, one after the other (each with its progress
    bar and claims), then the report. An experiment whose data cannot be had (a DataError)
    is skipped with one line; with ``--check`` a skip, like a claim not as stated, exits 1."""
    import time

    from overparam.errors import DataError
    from overparam.experiments import reproduce
    from overparam.experiments._catalog import CATALOG
    from overparam.report import write_report

    names = [n for n, e in CATALOG.items() if args.profile in e.profiles]
    start, ok, skipped = time.perf_counter(), True, []
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] {name} ({args.profile}); "
              f"{time.perf_counter() - start:.0f} s so far", flush=True)
        t = time.perf_counter()
        try:
            result = reproduce(name, args.profile, solver=args.solver, **opts)
        except DataError as e:
            print(f"skipped {name}: " + " ".join(str(e).splitlines()), flush=True)
            skipped.append(name)
            continue
        _print_claims(result)
        print(f"{name}: {time.perf_counter() - t:.0f} s", flush=True)
        ok = ok and result.all_hold
    path = write_report(args.out, None)
    print(f"{len(names) - len(skipped)} experiments in {time.perf_counter() - start:.0f} s"
          + (f" ({len(skipped)} skipped: {', '.join(skipped)})" if skipped else "")
          + f"; wrote {path}")
    return EXIT_CLAIMS_FAIL if args.check and (not ok or skipped) else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from overparam.errors import OverparamError

    if args.command == "list":
        from overparam.experiments._catalog import CATALOG

        width = max(len(n) for n in CATALOG)
        for name, e in CATALOG.items():
            print(f"{name:<{width}}  {e.summary}")
        return 0
    if args.command == "report":
        return _report(args.results, args.out)
    try:
        _check_light(args)
    except OverparamError as e:
        print("error: " + " ".join(str(e).splitlines()), file=sys.stderr)  # one line
        return EXIT_BAD_INPUT
    from overparam._runtime import (
        enable_compilation_cache,
        single_threaded_blas,
        use_all_cpu_cores,
    )
    from overparam.experiments import reproduce, run

    use_all_cpu_cores()
    single_threaded_blas()
    enable_compilation_cache(args.compile_cache)

    try:
        executor = args.executor
        if args.address is not None:
            from overparam.sweep._local import make_executor

            executor = make_executor("ray", address=args.address)
        if args.executor == "slurm":
            from overparam.sweep._local import make_executor

            executor = make_executor("slurm", **_slurm_executor_options(args))
        opts = dict(out=args.out, max_batch=args.max_batch, progress=not args.no_progress,
                    executor=executor)
        if args.command == "reproduce" and args.name == ALL:
            return _reproduce_all(args, opts)
        if args.command == "reproduce":
            result = reproduce(args.name, args.profile, solver=args.solver, **opts)
        else:
            result = run(args.file, **opts)
    except OverparamError as e:
        print("error: " + " ".join(str(e).splitlines()), file=sys.stderr)  # one line
        return EXIT_BAD_INPUT
    _print_claims(result)
    return EXIT_CLAIMS_FAIL if args.check and not result.all_hold else 0


if __name__ == "__main__":
    sys.exit(main())
