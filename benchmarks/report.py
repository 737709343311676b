"""The pure half of the benchmark: medians, ratios, targets, the markdown page and the chart.

Nothing here runs Docker: `bench.py` measures and writes results/latest.json, and
these functions turn that file into docs/benchmarks.md and docs/img/benchmarks.png
(`python benchmarks/bench.py --render-only` redoes just this part).
"""

from __future__ import annotations

import operator
import random
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

# The metrics each run records, in the order the table shows them, with how to read them.
METRICS: dict[str, dict[str, str]] = {
    "image_bytes": {"label": "Image", "unit": "bytes", "better": "lower"},
    "binary_bytes": {"label": "Binary", "unit": "bytes", "better": "lower"},
    "cold_build_s": {"label": "Cold build", "unit": "s", "better": "lower"},
    "rebuild_s": {"label": "Rebuild (1-line change)", "unit": "s", "better": "lower"},
    "first_200_s": {"label": "docker run to first 200", "unit": "s", "better": "lower"},
    "rss_kib": {"label": "RSS after 1000 req", "unit": "KiB", "better": "lower"},
}

REFERENCE = "ours-scratch"  # "ours" in every ratio: the template's defaults
MB = 1_000_000  # sizes in MB are decimal, as `docker images` prints them


def median(values: Iterable[float | None]) -> float | None:
    """The median of the measured values, skipping failed runs (None); None when nothing was measured."""
    measured = [v for v in values if v is not None]
    return statistics.median(measured) if measured else None


def ratio(value: float | None, reference: float | None) -> float | None:
    """value / reference, or None when either is missing or the reference is zero."""
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def medians(runs: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    """Per-metric medians over a variant's repeated runs."""
    return {metric: median(run.get(metric) for run in runs) for metric in METRICS}


def ratios(summary: Mapping[str, float | None], reference: Mapping[str, float | None]) -> dict[str, float | None]:
    """Each metric of a variant over the same metric of the reference variant (1.0 = same as ours)."""
    return {metric: ratio(summary.get(metric), reference.get(metric)) for metric in METRICS}


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Fill in each variant's medians and its ratios against the reference, in place; returns results."""
    variants = results["variants"]
    for variant in variants:
        variant["median"] = medians(variant.get("runs", []))
    by_name = {v["name"]: v for v in variants}
    reference = by_name.get(results.get("reference", REFERENCE), {}).get("median", {})
    for variant in variants:
        variant["ratio"] = ratios(variant["median"], reference)
    results["targets"] = evaluate_targets(results)
    if results.get("verification"):
        summarize_verification(results["verification"])
    if results.get("throughput"):
        summarize_throughput(results["throughput"])
    return results


# -- throughput: requests/s and p99 of the running service ------------------------

# The bare hello world, as the seed articles and docker-init build it: near-identical
# binaries, so within one round they differ by the machine's noise only. Each round's
# reference is their median in that round, which drift in the machine's load moves alike.
HELLO_WORLDS = ("seed-same-flags", "seed-herman", "seed-minimal", "docker-init")
THROUGHPUT_LOG_OFF = "ours-log-off"  # the same binary, LOG_LEVEL=warn: what the access log costs
THROUGHPUT_OURS = "ours"  # the generated service, access log on (LOG_LEVEL=info)
RPS_MIN = 0.9  # ours / the bare hello world
P99_MAX = 1.5
# The http binary before the platform package (2026-11-24 run, template f31d932), and how
# much the package may add.
BINARY_BEFORE_PLATFORM = 7_684_256
BINARY_GROWTH_MAX = 0.02


def median_interval(values: Sequence[float], confidence: float = 0.95, resamples: int = 4000) -> tuple[float, float]:
    """How far the median moves with the rounds' own noise: the central `confidence` share
    of the medians of `resamples` resamples of the rounds (a bootstrap). It knows only the
    noise between rounds. The seed is fixed, so the same results render the same page."""
    rng = random.Random(0)
    resampled_medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    tail = round(resamples * (1 - confidence) / 2)
    return resampled_medians[tail], resampled_medians[-tail - 1]


def round_references(servers: Sequence[Mapping[str, Any]], metric: str) -> list[float | None]:
    """Per round, the median of the hello-world builds' `metric` (None where none answered)."""
    hello = [s.get("runs", []) for s in servers if s["name"] in HELLO_WORLDS]
    rounds = max((len(runs) for runs in hello), default=0)
    return [median(runs[i].get(metric) for runs in hello if i < len(runs)) for i in range(rounds)]


def round_ratios(runs: Sequence[Mapping[str, Any]], references: Sequence[float | None], metric: str) -> list[float]:
    """A server's `metric` over its round's reference, for each round both were measured."""
    paired = zip(runs, references, strict=False)
    return [r for r in (ratio(run.get(metric), ref) for run, ref in paired) if r is not None]


def _rps_why_not(by_name: dict[str, dict[str, Any]]) -> str:
    """Why ours serves too few requests/s: the access log's share, from ours-log-off in the same run."""
    log_off = by_name.get(THROUGHPUT_LOG_OFF, {}).get("ratio", {}).get("rps")
    if log_off is None:
        return "the middleware and the log cost more per request than the target allows"
    return (f"with the access log off ({THROUGHPUT_LOG_OFF}) it is {log_off:.2f}x: the log's share is the "
            "difference, and the rest is what each request costs without it (the request ID, the watchdog's "
            "count of each connection's changes and reads, the middleware's clock reads: "
            "docs/production.md)")


def summarize_throughput(throughput: dict[str, Any]) -> dict[str, Any]:
    """Medians per server; per round, each server against that round's hello-world
    reference (the median of those ratios, and their range); the targets; in place."""
    servers = throughput.get("servers", [])
    references = {m: round_references(servers, m) for m in ("rps", "p99_ms")}
    for server in servers:
        runs = server.get("runs", [])
        server["median"] = {m: median(r.get(m) for r in runs if "error" not in r) for m in ("rps", "p99_ms")}
        per_round = {m: round_ratios(runs, references[m], m) for m in ("rps", "p99_ms")}
        server["ratio"] = {m: median(per_round[m]) for m in per_round}
        server["ratio_range"] = {m: [min(v), max(v)] if v else None for m, v in per_round.items()}
        server["ratio_interval"] = {m: list(median_interval(v)) if v else None for m, v in per_round.items()}
    throughput["reference"] = {m: median(references[m]) for m in references}
    throughput["quiet"] = quietness([run for server in servers for run in server.get("runs", [])])
    by_name = {s["name"]: s for s in servers}
    ours = by_name.get(THROUGHPUT_OURS, {})
    ratios_, ranges, intervals = ours.get("ratio", {}), ours.get("ratio_range", {}), ours.get("ratio_interval", {})
    binary = throughput.get("ours_binary_bytes")
    growth = ratio(binary, BINARY_BEFORE_PLATFORM)

    def spread(metric: str) -> str:
        low, high = ranges[metric]
        sure_low, sure_high = intervals[metric]
        return (f"median of {len(references[metric])} rounds, 95% interval {sure_low:.2f}x to {sure_high:.2f}x; "
                f"rounds {low:.2f}x to {high:.2f}x")

    throughput["targets"] = [
        _target("rps", f"requests/s with the access log on, at least {RPS_MIN:g}x the seed's bare net/http hello world",
                ratios_.get("rps"), RPS_MIN, operator.ge,
                lambda: f"{ours['median']['rps']:,.0f} / {throughput['reference']['rps']:,.0f} requests/s: "
                        f"{ratios_['rps']:.2f}x ({spread('rps')})",
                lambda: _rps_why_not(by_name)),
        _target("p99", f"p99 latency at most {P99_MAX:g}x the bare hello world's", ratios_.get("p99_ms"), P99_MAX,
                operator.le,
                lambda: f"{ours['median']['p99_ms']:.2f} / {throughput['reference']['p99_ms']:.2f} ms: "
                        f"{ratios_['p99_ms']:.2f}x ({spread('p99_ms')})",
                lambda: "the slowest requests wait longer than the target allows"),
        _target("binary", f"the http binary within {BINARY_GROWTH_MAX:.0%} of the {BINARY_BEFORE_PLATFORM / 1e6:.2f} MB "
                "before the platform package", growth, 1 + BINARY_GROWTH_MAX, operator.le,
                lambda: f"{binary:,} / {BINARY_BEFORE_PLATFORM:,} bytes = {growth - 1:+.2%}",
                lambda: "the platform package adds more code than the target allows"),
    ]
    return throughput


def quietness(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """How quiet the machine was: runs measured again because other processes (or the
    host) took CPU time, runs never quiet (missing), and the most any kept run saw."""
    kept = [run["other_load"] for run in runs if "error" not in run and "other_load" in run]
    return {"runs": len(runs), "measured_again": sum(1 for run in runs if run.get("measured_again", 0) > 0),
            "never_quiet": sum(1 for run in runs if "error" in run and "other_load" in run),
            "max_other_load": max(kept) if kept else None}


def _quiet_sentence(quiet: Mapping[str, Any] | None, env: Mapping[str, Any]) -> str:
    if not quiet or quiet.get("max_other_load") is None:
        return "The machine's other load was not recorded."
    return (f"Each run counts the CPU time taken by anything but the server and wrk (/proc/stat, steal included); "
            f"a run where that passed {env.get('other_load_max', '?')} of a CPU was measured again, up to "
            f"{env.get('quiet_tries', '?')} times in all: {quiet['measured_again']} of {quiet['runs']} runs were measured again, "
            f"{quiet['never_quiet']} never quiet (left out), and the kept runs' highest other load was "
            f"{quiet['max_other_load']:.2f} of a CPU.")


def render_throughput(throughput: Mapping[str, Any]) -> list[str]:
    """The page's section on the cost per request: targets, then requests/s and p99 per server."""
    env = throughput.get("environment", {})
    lines = [
        "## Throughput: the cost per request",
        "",
        f"Each server answers `GET /` on loopback to wrk ({env.get('connections', '?')} connections, "
        f"{env.get('seconds', '?')} s per run), the server pinned to CPU {env.get('server_cpu', '?')} and wrk to "
        f"CPU {env.get('load_cpu', '?')} (taskset); **{env.get('pairs', '?')}** rounds, each server once per round "
        "in turn. The servers start, answer a 1 s warm-up, and stay up, idle between their runs, "
        + (f"for {env['rounds_per_start']} rounds; then they start again. " if "rounds_per_start" in env else
           "for all the rounds. ")
        + "Each round's reference is the median of the four hello-world builds in that round "
        f"({', '.join(HELLO_WORLDS)}: near-identical binaries), so drift in the machine's load moves ours and "
        "the reference alike; a ratio is the median of the per-round ratios. Higher requests/s and lower p99 "
        "are better. The 95% interval is how far the median moves with the noise between rounds (a bootstrap: "
        "4,000 resamples of the rounds); it does not see what changes between whole measurements. "
        + _quiet_sentence(throughput.get("quiet"), env),
        "",
        "| Target | Status | Measured |",
        "| --- | --- | --- |",
    ]
    lines += _target_rows(throughput.get("targets", []))
    lines += ["", "| Server | What it is | Requests/s | p99 |", "| --- | --- | ---: | ---: |"]
    for server in throughput.get("servers", []):
        m, r = server.get("median", {}), server.get("ratio", {})
        rps = "n/a" if m.get("rps") is None else f"{m['rps']:,.0f}"
        p99 = "n/a" if m.get("p99_ms") is None else f"{m['p99_ms']:.2f} ms"
        rps += f" ({fmt_ratio(r.get('rps'))})"
        p99 += f" ({fmt_ratio(r.get('p99_ms'))})"
        name = f"**{server['name']}**" if server["name"] == THROUGHPUT_OURS else server["name"]
        lines.append(f"| {name} | {_escape(server.get('title', ''))} | {rps} | {p99} |")
    lines += ["", f"Machine: {env.get('machine', 'not recorded')}."]
    return lines


def _variant(results: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return next((v for v in results["variants"] if v["name"] == name), {})


def _median_of(results: Mapping[str, Any], name: str, metric: str) -> float | None:
    return _variant(results, name).get("median", {}).get(metric)


def _target(name: str, claim: str, measured: float | None, threshold: float,
            meets: Callable[[float, float], bool], detail: Callable[[], str],
            why_not: Callable[[], str] | None = None) -> dict:
    """One target: PASS when `meets(measured, threshold)`, n/a when not measured
    (then `detail`, which formats the measured figures, is not called); on FAIL,
    `why_not` says from the same figures what stands in the way."""
    status = "n/a" if measured is None else ("PASS" if meets(measured, threshold) else "FAIL")
    return {
        "name": name,
        "claim": claim,
        "measured": measured,
        "threshold": threshold,
        "status": status,
        "detail": "" if measured is None else detail(),
        "why_not": why_not() if status == "FAIL" and why_not is not None else "",
    }


def _upx_why_not(image: float, binary: float | None) -> str:
    """Why the packed image is not under the budget: how much of it is the packed binary."""
    split = "" if binary is None else (
        f"the packed binary alone is {fmt_bytes(binary)}, the rest of the image {fmt_bytes(image - binary)} "
        "(CA bundle, passwd, /tmp). ")
    return split + "What would get under, and why the template does not do it: [Questions: upx](questions.md#upx)."


def _docker_init_why_not(results: Mapping[str, Any], init_image: float, ours: float, threshold: float) -> str:
    """Why docker-init's image is not `threshold` times ours: the split of its size."""
    init_binary = _median_of(results, "docker-init", "binary_bytes")
    if init_binary is None:
        return ""
    text = (f"docker-init's binary alone is {fmt_bytes(init_binary)} (built without `-s -w`), "
            f"{init_binary / ours:.2f}x our whole image; its base layers add {fmt_bytes(init_image - init_binary)} here. "
            f"{threshold:g}x would need {fmt_bytes(threshold * ours - init_binary)} of base layers")
    base = _variant(results, "docker-init").get("final_standin")
    official = results.get("official_images", {}).get(base["official"], {}) if base else {}
    if official:
        text += (f"; the stand-in for `{base['official']}` is {fmt_bytes(official.get('standin_bytes'))}, "
                 f"its publishers document {official['documented'].split(':')[0]}")  # source: the stand-in table
    return text + "."


def evaluate_targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The issue's four targets, each PASS, FAIL or n/a (a variant it needs was not measured)."""
    ref = results.get("reference", REFERENCE)

    image = _median_of(results, ref, "image_bytes")
    binary = _median_of(results, ref, "binary_bytes")
    ca_bundle = results.get("environment", {}).get("ca_bundle_bytes")
    floor = binary + ca_bundle if binary is not None and ca_bundle is not None else None
    overhead = ratio(image, floor)

    init_image = _median_of(results, "docker-init", "image_bytes")
    smaller = ratio(init_image, image)

    seed_rebuild = _median_of(results, "seed-herman-multi", "rebuild_s")
    our_rebuild = _median_of(results, ref, "rebuild_s")
    faster = ratio(seed_rebuild, our_rebuild)

    upx_image = _median_of(results, "ours-scratch-upx", "image_bytes")
    upx_binary = _median_of(results, "ours-scratch-upx", "binary_bytes")
    upx_mb = None if upx_image is None else upx_image / MB

    return [
        _target(
            "scratch-overhead", "our scratch image within 5% of binary + CA bundle",
            overhead, 1.05, operator.le,
            lambda: f"image {fmt_bytes(image)} vs binary {fmt_bytes(binary)} + CA bundle {fmt_bytes(ca_bundle)} "
                    f"= {fmt_bytes(floor)} (+{(overhead - 1) * 100:.1f}%)",
        ),
        _target(
            "vs-docker-init", "ours at least 3x smaller than the docker-init-style image",
            smaller, 3.0, operator.ge,
            lambda: f"docker-init {fmt_bytes(init_image)} / ours {fmt_bytes(image)} = {smaller:.1f}x",
            lambda: _docker_init_why_not(results, init_image, image, 3.0),
        ),
        _target(
            "warm-rebuild", "warm rebuild at least 3x faster than the seed multi-stage Dockerfile (no cache mounts)",
            faster, 3.0, operator.ge,
            lambda: f"seed multi-stage {seed_rebuild:.1f} s / ours {our_rebuild:.1f} s = {faster:.1f}x",
        ),
        _target(
            "upx-size", "upx variant under 2.2 MB for the http server (whole scratch image, CA bundle included)",
            upx_mb, 2.2, operator.lt,
            lambda: f"image {fmt_bytes(upx_image)}, packed binary {fmt_bytes(upx_binary)}",
            lambda: _upx_why_not(upx_image, upx_binary),
        ),
    ]


# -- verification: the cost of proving the service ------------------------------

VERIFY_COLD_MAX = 1.3  # copier copy with VERIFY=on / one cold docker build
VERIFY_WARM_MAX = 2.5  # make verify after a one-line change / one warm docker build
# verify.sh's steps for its image build and its go checks; its other steps check the built image.
_BUILD_STEP, _CHECKS_STEP = "docker build", "go checks"


def _measured(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The entries that measured something: a cold run or warm pair with an error counts for nothing."""
    return [e for e in entries if e and not e.get("error")]


def step_medians(step_maps: Iterable[Mapping[str, float]]) -> dict[str, float | None]:
    """Per-step medians of verify.sh's step seconds, steps in the order they first appear."""
    maps = list(step_maps)
    names = list(dict.fromkeys(name for steps in maps for name in steps))
    return {name: median(steps.get(name) for steps in maps) for name in names}


def summarize_verification(verification: dict[str, Any]) -> dict[str, Any]:
    """Medians, the two ratios and the two targets of the verification runs, in place; returns it.

    Each run (one per repeat) holds `cold` (copier copy with VERIFY=on, then one cold
    docker build) and `warm` (pairs: `make verify`, then a docker build, each after a
    one-line change). A part that did not verify carries an `error` and counts for no median.
    """
    runs = verification.get("runs", [])
    colds = _measured(r.get("cold", {}) for r in runs)
    pairs = _measured(p for r in runs for p in r.get("warm", {}).get("pairs", []))
    verification["median"] = m = {
        "copier_verify_s": median(c.get("copier_verify_s") for c in colds),
        "generate_s": median(c.get("generate_s") for c in colds),
        "cold_build_s": median(c.get("cold_build_s") for c in colds),
        "make_verify_s": median(p.get("make_verify_s") for p in pairs),
        "warm_build_s": median(p.get("docker_build_s") for p in pairs),
    }
    platform = _measured(p for r in runs for p in r.get("warm", {}).get("platform_pairs", []))
    m["platform_make_verify_s"] = median(p.get("make_verify_s") for p in platform)
    m["platform_warm_build_s"] = median(p.get("docker_build_s") for p in platform)
    verification["steps"] = {
        "cold": step_medians(c.get("verify_steps", {}) for c in colds),
        "warm": step_medians(p.get("verify_steps", {}) for p in pairs),
    }
    verification["ratio"] = {"cold": ratio(m["copier_verify_s"], m["cold_build_s"]),
                             "warm": ratio(m["make_verify_s"], m["warm_build_s"]),
                             "warm_platform": ratio(m["platform_make_verify_s"], m["platform_warm_build_s"])}
    verification["counts"] = {"cold": len(colds), "warm": len(pairs), "warm_platform": len(platform)}
    verification["targets"] = evaluate_verification_targets(verification)
    return verification


def verification_errors(verification: Mapping[str, Any]) -> dict[str, list[str]]:
    """What did not verify (or could not be measured), per part: cold and warm."""
    runs = verification.get("runs", [])
    cold = [r["cold"]["error"] for r in runs if r.get("cold", {}).get("error")]
    warm = [r["warm"]["error"] for r in runs if r.get("warm", {}).get("error")]
    warm += [p["error"] for r in runs for p in r.get("warm", {}).get("pairs", []) if p.get("error")]
    return {"cold": cold, "warm": warm}


def _step_split(steps: Mapping[str, float | None]) -> tuple[float | None, float | None, float | None]:
    """(the docker build step, the go checks step, the image checks after the build together)."""
    others = [v for k, v in steps.items() if k not in (_BUILD_STEP, _CHECKS_STEP) and v is not None]
    return steps.get(_BUILD_STEP), steps.get(_CHECKS_STEP), (sum(others) if others else None)


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def _steps_why(build: float | None, checks: float | None, image: float | None) -> str:
    """Where verify.sh's seconds went: the go checks run beside the image steps and report at the end,
    so what they add is the wait after the image side (build, then its checks) was done."""
    text = (f"the image checks after it {_secs(image)}, the go checks beside them {_secs(checks)} "
            "(verify.sh's start to its end)")
    if None not in (build, checks, image) and checks > build + image:
        text += f": verify.sh waited {_secs(checks - build - image)} for the go checks after the image side was done"
    return text + "."


def _verify_cold_why_not(v: Mapping[str, Any]) -> str:
    """Why copier copy with VERIFY=on is over budget: where its seconds went."""
    m = v["median"]
    build, checks, image = _step_split(v["steps"]["cold"])
    allowed = VERIFY_COLD_MAX * m["cold_build_s"]
    text = f"{VERIFY_COLD_MAX:g}x the cold build is {_secs(allowed)}, {_secs(m['copier_verify_s'] - allowed)} less"
    if m["generate_s"] is not None:
        text += (f". Of copier's {_secs(m['copier_verify_s'])}, generating the service took {_secs(m['generate_s'])} "
                 f"and verify.sh {_secs(m['copier_verify_s'] - m['generate_s'])}")
    return text + (f": its docker build step {_secs(build)} (the plain cold build: {_secs(m['cold_build_s'])}), "
                   + _steps_why(build, checks, image))


def _verify_warm_why_not(v: Mapping[str, Any]) -> str:
    """Why make verify is over budget: where its seconds went."""
    m = v["median"]
    build, checks, image = _step_split(v["steps"]["warm"])
    allowed = VERIFY_WARM_MAX * m["warm_build_s"]
    return (f"{VERIFY_WARM_MAX:g}x the warm build is {_secs(allowed)}, {_secs(m['make_verify_s'] - allowed)} less. "
            f"make verify's docker build step took {_secs(build)} (the plain warm build: {_secs(m['warm_build_s'])}), "
            + _steps_why(build, checks, image))


def _verification_target(name: str, claim: str, measured: float | None, threshold: float,
                         detail: Callable[[], str], why_not: Callable[[], str], errors: Sequence[str]) -> dict:
    """A verification target, as `_target` (at most the threshold); a run that did not verify fails it,
    whatever the ratio of the others."""
    target = _target(name, claim, measured, threshold, operator.le, detail, why_not)
    if errors:
        target["status"] = "FAIL"
        target["detail"] = target["detail"] or "not measured"
        target["why_not"] = f"{len(errors)} did not verify: " + "; ".join(" ".join(e.split()) for e in errors)
    return target


def evaluate_verification_targets(verification: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Cold and warm: each ratio at most its threshold, and every run verified."""
    m, r = verification["median"], verification["ratio"]
    errors = verification_errors(verification)
    return [
        _verification_target(
            "verify-cold", f"cold: `copier copy` with VERIFY=on, until a verified image, within "
                           f"{VERIFY_COLD_MAX:g}x one cold `docker build`",
            r["cold"], VERIFY_COLD_MAX,
            lambda: f"copier copy + verify {_secs(m['copier_verify_s'])} / cold docker build "
                    f"{_secs(m['cold_build_s'])} = {r['cold']:.2f}x",
            lambda: _verify_cold_why_not(verification), errors["cold"],
        ),
        _verification_target(
            "verify-warm", f"warm: `make verify` after a one-line change within {VERIFY_WARM_MAX:g}x "
                           "one warm `docker build`",
            r["warm"], VERIFY_WARM_MAX,
            lambda: f"make verify {_secs(m['make_verify_s'])} / warm docker build "
                    f"{_secs(m['warm_build_s'])} = {r['warm']:.2f}x",
            lambda: _verify_warm_why_not(verification), errors["warm"],
        ),
    ]


def _target_rows(targets: Sequence[Mapping[str, Any]]) -> list[str]:
    """A targets table's rows, then why each failing target fails."""
    rows = [f"| {_escape(t['claim'])} | **{t['status']}** | {_escape(t['detail']) or '–'} |" for t in targets]
    failed = [t for t in targets if t.get("why_not")]
    if failed:
        rows += ["", "Why the failing targets fail, from the same figures:", ""]
        rows += [f"- {t['claim']}: {t['why_not']}" for t in failed]
    return rows


def render_verification(verification: Mapping[str, Any]) -> list[str]:
    """The page's section on what proving the service costs: its two targets and their seconds."""
    m, r = verification.get("median", {}), verification.get("ratio", {})
    counts = verification.get("counts", {})
    steps = verification.get("steps", {})
    cold_steps, warm_steps = steps.get("cold", {}), steps.get("warm", {})
    env = verification.get("environment", {})
    lines = [
        "## Verification: the cost of proving the service",
        "",
        "`copier copy` with `VERIFY=on` ends by running the new service's own `scripts/verify.sh`: the image "
        "build and, beside it, the Dockerfile's checks stage: gofmt and go test, and golangci-lint (go vet's "
        "analyzers among its linters), side by side in one step; then the image's size, "
        "its non-root user, its static binary and a smoke run. `make verify` runs the same script after every "
        "change. Both are measured against a plain `docker build` of the same generated service (default answers) "
        f"in the same run: medians of **{counts.get('cold', 0)}** cold run{'' if counts.get('cold') == 1 else 's'} "
        f"and **{counts.get('warm', 0)}** warm pair{'' if counts.get('warm') == 1 else 's'}.",
        "",
        "| Target | Status | Measured |",
        "| --- | --- | --- |",
    ]
    targets = verification.get("targets", [])
    lines += _target_rows(targets)
    lines += [
        "",
        "| Seconds (medians) | Cold | Warm |",
        "| --- | ---: | ---: |",
        f"| with verification: `copier copy` (cold), `make verify` (warm) | {_secs(m.get('copier_verify_s'))} "
        f"| {_secs(m.get('make_verify_s'))} |",
        f"| plain `docker build` | {_secs(m.get('cold_build_s'))} | {_secs(m.get('warm_build_s'))} |",
        f"| ratio | {fmt_ratio(r.get('cold'))} | {fmt_ratio(r.get('warm'))} |",
        f"| copier generating the service, before verify.sh starts | {_secs(m.get('generate_s'))} | – |",
    ]
    if m.get("platform_make_verify_s") is not None:
        platform_pairs = counts.get("warm_platform", 0)
        lines.append(f"| not the target's: `make verify` / `docker build` after a change in internal/platform "
                     f"({platform_pairs} pair{'' if platform_pairs == 1 else 's'}) | – "
                     f"| {_secs(m.get('platform_make_verify_s'))} / {_secs(m.get('platform_warm_build_s'))} "
                     f"= {fmt_ratio(r.get('warm_platform'))} |")
    for name in dict.fromkeys([*cold_steps, *warm_steps]):
        lines.append(f"| verify.sh step: {_escape(name)} | {_secs(cold_steps.get(name))} "
                     f"| {_secs(warm_steps.get(name))} |")
    lines += [
        "",
        "Cold: `docker builder prune -af` first, so the Go build cache mounts start empty; then `copier copy "
        "--trust --defaults --vcs-ref HEAD` with `VERIFY=on` until it returns, its output ending "
        "`verify: N ok, 0 failed, 0 skipped: verified` (generating the service included), the linter a prebuilt "
        "image (`LINT_IMAGE`, tagged from the template's own linter-source stage before the runs: a team pulls "
        "golangci-lint's image the same way, or compiles it once per machine, the seconds below); then `docker builder "
        "prune -af` again and `docker build --no-cache` of the generated service. Warm: the service committed to "
        "git and `make verify` run once, untimed (the checks stage's first run after the plain build); then per pair "
        "a route added to main.go (the team's own code, where a team's everyday change is) and `make verify` "
        "timed, another route instead and `docker build` timed. Then the same pairs with the `listening` log message "
        "in internal/platform/server.go changed instead, the kind of change `copier update` brings: the platform's "
        "tests then run again, the service's slowest (about 0.5 s of drain and timeout tests). Step seconds are "
        "verify.sh's own (the team's change): its go checks run beside the image steps and are reported at its end, "
        "so the steps do not add up.",
    ]
    if env.get("linter_compile_s") is not None:
        lines += ["", f"Without a prebuilt linter, the first verification on a machine with an empty build cache "
                      f"also compiles golangci-lint: {_secs(env['linter_compile_s'])} in this run (the linter-source "
                      "stage, once; BuildKit keeps it for every service on the machine until the cache is pruned)."]
    facts = [f"{key.replace('_', ' ')}: {env[key]}" for key in
             ("date", "template", "storage_driver", "load_average_at_start", "load_average_at_end") if key in env]
    if facts:
        lines += ["", "Measured " + "; ".join(facts) + "."]
    return lines


# -- formatting ----------------------------------------------------------------

def fmt_bytes(value: float | None) -> str:
    """Bytes as MB (decimal, like `docker images`), or a dash when not measured."""
    if value is None:
        return "–"
    if value >= 100 * MB:
        return f"{value / MB:.0f} MB"
    return f"{value / MB:.2f} MB"


def fmt_value(metric: str, value: float | None) -> str:
    if value is None:
        return "–"
    unit = METRICS[metric]["unit"]
    if unit == "bytes":
        return fmt_bytes(value)
    if unit == "KiB":
        return f"{value / 1024:.1f} MiB"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.1f} s"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(results: Mapping[str, Any], chart_path: str = "img/benchmarks.png") -> str:
    """docs/benchmarks.md: the environment, the targets, the table (medians and ratios) and the notes."""
    env = results.get("environment", {})
    ref = results.get("reference", REFERENCE)
    variants = results["variants"]
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `make bench` (benchmarks/bench.py) from benchmarks/results/latest.json: edit the script, not this page. -->",
        "",
        f"The same program (the template's http `main.go`) built and run by each Dockerfile, "
        f"in one run on one machine: medians of **{run_counts(variants)}** runs per variant, "
        f"ratios against **{ref}** (the template's defaults) from the same run. "
        "Lower is better in every column.",
        "",
        f"![Image size and rebuild time per variant]({chart_path})",
        "",
        "## Targets",
        "",
        "| Target | Status | Measured |",
        "| --- | --- | --- |",
    ]
    targets = results.get("targets", [])
    lines += _target_rows(targets)
    lines += ["", "## Results", ""]
    header = ["Variant"] + [METRICS[m]["label"] for m in METRICS]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("| " + " | ".join(["---"] + ["---:"] * len(METRICS)) + " |")
    for variant in variants:
        cells = [f"**{variant['name']}**" if variant["name"] == ref else variant["name"]]
        for metric in METRICS:
            value = variant.get("median", {}).get(metric)
            rel = variant.get("ratio", {}).get(metric)
            cell = fmt_value(metric, value)
            if metric == "image_bytes" and value is not None and variant.get("final_standin"):
                cell += " †"
            if value is not None and variant["name"] != ref:
                cell += f" ({fmt_ratio(rel)})"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "† Built on a stand-in base image (below): part of this size is the stand-in's, not the official "
        "image's. ",
        f"In brackets: the variant's median over {ref}'s. Image: `docker image inspect .Size` (uncompressed). "
        "Binary: the file in the image. Cold build: `docker build --no-cache` with fresh cache mounts. "
        "Rebuild: the next build after changing one string in main.go. "
        "docker run to first 200: from starting `docker run` to the first 200 answer to `GET /` on the host network. "
        "RSS: VmRSS of the container's main process after 1000 keep-alive `GET /` requests.",
    ]
    if results.get("verification"):
        lines += [""] + render_verification(results["verification"])
    if results.get("throughput"):
        lines += [""] + render_throughput(results["throughput"])
    lines += [
        "",
        "## Variants",
        "",
        "| Variant | What it is | Base images (stand-ins) |",
        "| --- | --- | --- |",
    ]
    for variant in variants:
        bases = "; ".join(_standin_note(s) for s in variant.get("standins", [])) or "scratch only (no stand-in)"
        lines.append(f"| {variant['name']} | {_escape(variant.get('title', ''))} | {_escape(bases)} |")
    lines += ["", "## Stand-in base images", ""]
    lines.append(
        "No registry is reachable where this ran, so local stand-ins (scripts/standin-images.sh) replace the "
        "official base images. Sizes above are those of images built on the stand-ins. For the official images, "
        "only what their publishers document:"
    )
    lines += ["", "| Official image | Stand-in | Stand-in size (measured) | Official size (documented) |", "| --- | --- | --- | --- |"]
    for official, info in sorted(results.get("official_images", {}).items()):
        lines.append(
            f"| `{official}` | `{info['standin']}` | {fmt_bytes(info.get('standin_bytes'))} | {_escape(info['documented'])} |"
        )
    notes = results.get("notes", [])
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in notes]
    lines += ["", "## Environment", ""]
    for key in ("date", "docker_server", "storage_driver", "go_version", "cpus", "repeats", "standins_used",
                "load_average_at_start", "load_average_during_run"):
        if key in env:
            lines.append(f"- {key.replace('_', ' ')}: {env[key]}")
    lines += ["", "Machine-readable results: `benchmarks/results/latest.json`.", ""]
    return "\n".join(lines)


def run_counts(variants: Sequence[Mapping[str, Any]]) -> str:
    """How many runs each variant's medians are over: '3', or '2-3' when an interrupted run left them uneven."""
    counts = sorted({len(v.get("runs", [])) for v in variants})
    if not counts:
        return "0"
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"


def _standin_note(standin: Mapping[str, str]) -> str:
    return f"{standin['official']} → stand-in {standin['image']}"


def render_chart(results: Mapping[str, Any], path: str) -> None:
    """A two-panel horizontal bar chart: image size (log scale) and warm rebuild time, ours highlighted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref = results.get("reference", REFERENCE)
    variants = [v for v in results["variants"] if v.get("median", {}).get("image_bytes") is not None]
    names = [v["name"] for v in variants]
    colors = {"ours": "#81c784", "seed": "#9e9e9e", "peer": "#1565c0"}
    bar_colors = [("#1b5e20" if v["name"] == ref else colors.get(v.get("group"), "#9e9e9e")) for v in variants]
    sizes = [v["median"]["image_bytes"] / MB for v in variants]
    rebuilds = [v["median"].get("rebuild_s") or 0 for v in variants]

    height = 1.2 + 0.42 * len(variants)
    fig, (ax_size, ax_rebuild) = plt.subplots(1, 2, figsize=(12, height), sharey=True)
    y = range(len(variants))
    ax_size.barh(y, sizes, color=bar_colors)
    ax_size.set_xscale("log")
    ax_size.set_xlabel("image size, MB (log scale)")
    ax_size.set_title("Image size")
    for i, value in enumerate(sizes):
        ax_size.text(value * 1.05, i, f"{value:.1f}" if value < 100 else f"{value:.0f}", va="center", fontsize=8)
    # Plain-number ticks (1, 2, 5, 10, ...) and a left edge below the smallest bar, so every bar shows.
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    left, right = min(sizes) / 2, max(sizes) * 3
    ax_size.set_xlim(left, right)
    ticks = [t * 10**e for e in range(-1, 4) for t in (1, 2, 5) if left <= t * 10**e <= right]
    ax_size.xaxis.set_major_locator(FixedLocator(ticks))
    ax_size.xaxis.set_minor_locator(NullLocator())
    ax_size.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
    ax_rebuild.barh(y, rebuilds, color=bar_colors)
    ax_rebuild.set_xlabel("seconds")
    ax_rebuild.set_title("Rebuild after a one-line change")
    for i, value in enumerate(rebuilds):
        ax_rebuild.text(value + max(rebuilds) * 0.01, i, f"{value:.1f}", va="center", fontsize=8)
    ax_rebuild.set_xlim(right=max(rebuilds) * 1.15 if max(rebuilds) else 1)
    ax_size.set_yticks(list(y))
    ax_size.set_yticklabels(names)
    ax_size.invert_yaxis()
    for label in ax_size.get_yticklabels():
        if label.get_text() == ref:
            label.set_fontweight("bold")
    from matplotlib.patches import Patch

    legend = [Patch(color="#1b5e20", label=f"{ref} (defaults)"), Patch(color=colors["ours"], label="ours, other options"),
              Patch(color=colors["peer"], label="docker init style"), Patch(color=colors["seed"], label="seed articles")]
    fig.legend(handles=legend, loc="lower center", ncol=4, frameon=False, fontsize=9)
    fig.suptitle(f"Same main.go, medians of {run_counts(results['variants'])} runs (lower is better)", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
