"""The pure half of the benchmark: medians, ratios, targets, the markdown page and the chart.

Nothing here runs Docker: `bench.py` measures and writes results/latest.json, and
these functions turn that file into docs/benchmarks.md and docs/img/benchmarks.png
(`python benchmarks/bench.py --render-only` redoes just this part).
"""

from __future__ import annotations

import operator
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
    return results


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
    for target in targets:
        lines.append(f"| {_escape(target['claim'])} | **{target['status']}** | {_escape(target['detail']) or '–'} |")
    failed = [t for t in targets if t.get("why_not")]
    if failed:
        lines += ["", "Why the failing targets fail, from the same figures:", ""]
        lines += [f"- {t['claim']}: {t['why_not']}" for t in failed]
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
    env = results.get("environment", {})
    fig.suptitle(f"Same main.go, medians of {run_counts(results['variants'])} runs (lower is better)", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
