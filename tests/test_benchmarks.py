"""The benchmark's pure parts: medians, ratios, targets, markdown, and the Dockerfile rewrites.

No Docker here: the measuring half (benchmarks/bench.py) is a script, not a test.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench  # noqa: E402
import report  # noqa: E402

DOCKERFILES = ROOT / "benchmarks" / "dockerfiles"


def run(**metrics):
    return {"repeat": 1, **metrics}


def results(**overrides):
    """A small results file: ours, the docker-init peer, the seed multi-stage and ours with UPX."""
    base = {
        "environment": {"repeats": 3, "ca_bundle_bytes": 200_000, "date": "2025-01-01T00:00:00+00:00"},
        "reference": "ours-scratch",
        "variants": [
            {"name": "ours-scratch", "group": "ours", "title": "ours", "standins": [],
             "runs": [run(image_bytes=6_250_000, binary_bytes=6_000_000, rebuild_s=4.0, cold_build_s=40.0,
                          first_200_s=0.02, rss_kib=9000) for _ in range(3)]},
            {"name": "docker-init", "group": "peer", "title": "peer", "standins": [
                {"arg": "RUNTIME_IMAGE", "image": "standin/alpine:3.22", "official": "alpine:latest"}],
             "final_standin": {"image": "standin/alpine:3.22", "official": "alpine:latest"},
             "runs": [run(image_bytes=20_000_000, rebuild_s=20.0), run(image_bytes=22_000_000, rebuild_s=30.0),
                      run(error="boom")]},
            {"name": "seed-herman-multi", "group": "seed", "title": "seed", "standins": [],
             "runs": [run(image_bytes=13_000_000, rebuild_s=s) for s in (10.0, 14.0, 12.0)]},
            {"name": "ours-scratch-upx", "group": "ours", "title": "upx", "standins": [],
             "runs": [run(image_bytes=2_100_000, binary_bytes=1_900_000, rebuild_s=9.0)]},
        ],
        "official_images": {"alpine:latest": {"standin": "standin/alpine:3.22", "standin_bytes": 2_210_000,
                                              "documented": "~5 MB (docker-library docs)"}},
        "notes": ["a note"],
    }
    base.update(overrides)
    return base


def test_median_skips_failed_runs_and_handles_nothing_measured():
    assert report.median([3.0, None, 1.0, 2.0]) == 2.0
    assert report.median([4.0, 1.0]) == 2.5
    assert report.median([None, None]) is None
    assert report.median([]) is None


def test_ratio_refuses_missing_or_zero_reference():
    assert report.ratio(6.0, 2.0) == 3.0
    assert report.ratio(None, 2.0) is None
    assert report.ratio(6.0, None) is None
    assert report.ratio(6.0, 0) is None


def test_summarize_medians_and_ratios_against_ours():
    summary = report.summarize(results())
    by_name = {v["name"]: v for v in summary["variants"]}
    assert by_name["docker-init"]["median"]["image_bytes"] == 21_000_000  # the failed run is skipped
    assert by_name["docker-init"]["ratio"]["image_bytes"] == pytest.approx(21_000_000 / 6_250_000)
    assert by_name["ours-scratch"]["ratio"]["image_bytes"] == 1.0
    assert by_name["seed-herman-multi"]["median"]["rebuild_s"] == 12.0
    assert by_name["seed-herman-multi"]["ratio"]["binary_bytes"] is None  # not measured: no ratio


def test_targets_pass_on_good_numbers():
    targets = {t["name"]: t for t in report.summarize(results())["targets"]}
    assert [t["status"] for t in targets.values()] == ["PASS"] * 4
    assert targets["scratch-overhead"]["measured"] == pytest.approx(6_250_000 / 6_200_000)
    assert targets["vs-docker-init"]["measured"] == pytest.approx(21_000_000 / 6_250_000)
    assert targets["warm-rebuild"]["measured"] == pytest.approx(3.0)  # exactly 3x passes
    assert targets["upx-size"]["measured"] == pytest.approx(2.1)


def test_targets_fail_and_say_why():
    data = results()
    data["variants"][0]["runs"] = [run(image_bytes=7_000_000, binary_bytes=6_000_000, rebuild_s=5.0)]
    data["variants"][3]["runs"] = [run(image_bytes=2_200_000)]  # "under 2.2 MB": 2.2 itself fails
    targets = {t["name"]: t for t in report.summarize(data)["targets"]}
    assert targets["scratch-overhead"]["status"] == "FAIL"
    assert "+12.9%" in targets["scratch-overhead"]["detail"]
    assert targets["vs-docker-init"]["status"] == "PASS"  # 21 / 7 = 3.0
    assert targets["warm-rebuild"]["status"] == "FAIL"  # 12 / 5 = 2.4
    assert targets["upx-size"]["status"] == "FAIL"
    assert "questions.md#upx" in targets["upx-size"]["why_not"]  # no binary measured: no split, still the pointer
    assert targets["vs-docker-init"]["why_not"] == ""  # PASS: nothing to explain


def test_a_failing_target_explains_itself_from_the_same_figures():
    data = results()
    data["variants"][1]["runs"] = [run(image_bytes=14_000_000, binary_bytes=10_000_000)]
    data["variants"][3]["runs"] = [run(image_bytes=2_600_000, binary_bytes=2_400_000)]
    summary = report.summarize(data)
    targets = {t["name"]: t for t in summary["targets"]}
    docker_init = targets["vs-docker-init"]["why_not"]
    assert targets["vs-docker-init"]["status"] == "FAIL"  # 14 / 6.25 = 2.24
    assert "binary alone is 10.00 MB" in docker_init and "1.60x our whole image" in docker_init
    assert "base layers add 4.00 MB" in docker_init and "3x would need 8.75 MB" in docker_init
    assert "`alpine:latest` is 2.21 MB" in docker_init and "~5 MB (docker-library docs)" in docker_init
    assert "packed binary alone is 2.40 MB, the rest of the image 0.20 MB" in targets["upx-size"]["why_not"]
    page = report.render_markdown(summary)
    assert page.count("\n- ours at least 3x smaller") == 1 and "Why the failing targets fail" in page
    assert targets["warm-rebuild"]["why_not"] == "" and "\n- warm rebuild" not in page


def test_targets_are_na_when_a_variant_was_not_measured():
    data = results()
    data["variants"] = [v for v in data["variants"] if v["name"] == "ours-scratch"]
    targets = {t["name"]: t for t in report.summarize(data)["targets"]}
    assert targets["scratch-overhead"]["status"] == "PASS"
    assert {targets[n]["status"] for n in ("vs-docker-init", "warm-rebuild", "upx-size")} == {"n/a"}


def test_markdown_has_targets_table_ratios_and_standin_sizes():
    page = report.render_markdown(report.summarize(results()))
    assert page.startswith("# Benchmarks\n")
    assert "medians of **1-3** runs per variant" in page  # ours-scratch-upx has one run, the others three
    assert "| our scratch image within 5% of binary + CA bundle | **PASS** |" in page
    # The reference row has no ratio; others carry theirs in brackets.
    assert re.search(r"\| \*\*ours-scratch\*\* \| 6\.25 MB \| 6\.00 MB \| 40\.0 s \| 4\.0 s \| 20 ms \| 8\.8 MiB \|", page)
    # A size that includes a stand-in base image says so next to the figure.
    assert "| docker-init | 21.00 MB † (3.36x) |" in page
    assert "† Built on a stand-in base image" in page
    # The stand-in's measured size and the official image's documented one, never mixed up.
    assert "| `alpine:latest` | `standin/alpine:3.22` | 2.21 MB | ~5 MB (docker-library docs) |" in page
    assert "- a note" in page
    # Every table row has the header's number of cells.
    header = next(line for line in page.splitlines() if line.startswith("| Variant | Image"))
    rows = [line for line in page.splitlines() if line.startswith("| ours-") or line.startswith("| docker-init |")
            or line.startswith("| seed-") or line.startswith("| **ours")]
    assert all(row.count(" | ") == header.count(" | ") for row in rows if "MB" in row)


def test_run_counts():
    assert report.run_counts([{"runs": [1, 2, 3]}, {"runs": [1, 2, 3]}]) == "3"
    assert report.run_counts([{"runs": [1, 2]}, {"runs": [1, 2, 3]}]) == "2-3"
    assert report.run_counts([]) == "0"


def test_formatting():
    assert report.fmt_bytes(None) == "–"
    assert report.fmt_bytes(2_604_123) == "2.60 MB"
    assert report.fmt_bytes(201_000_000) == "201 MB"
    assert report.fmt_value("first_200_s", 0.1799) == "180 ms"
    assert report.fmt_value("cold_build_s", 41.31) == "41.3 s"
    assert report.fmt_value("rss_kib", 9152) == "8.9 MiB"
    assert report.fmt_ratio(3.357) == "3.36x"
    assert report.fmt_ratio(35.7) == "36x"


def test_chart_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "chart.png"
    report.render_chart(report.summarize(results()), str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- bench.py's pure helpers ----------------------------------------------------

def test_isolate_cache_mounts_gives_each_mount_a_fresh_id():
    dockerfile = (
        "RUN --mount=type=cache,target=/go/pkg/mod \\\n"
        "    --mount=type=cache,target=/root/.cache/go-build \\\n"
        "    --mount=type=bind,target=. \\\n"
        "    --mount=type=cache,id=mine,target=/x \\\n"
        "    go build .\n"
    )
    once = bench.isolate_cache_mounts(dockerfile, "aaa")
    assert "--mount=type=cache,id=bench-aaa-1,target=/go/pkg/mod" in once
    assert "--mount=type=cache,id=bench-aaa-2,target=/root/.cache/go-build" in once
    assert "--mount=type=cache,id=mine,target=/x" in once  # an explicit id is left alone
    assert "--mount=type=bind,target=." in once
    assert bench.isolate_cache_mounts(dockerfile, "bbb") != once
    assert bench.isolate_cache_mounts("FROM scratch\n", "aaa") == "FROM scratch\n"


def test_isolate_cache_mounts_on_the_template_and_docker_init():
    template = (ROOT / "{{cookiecutter.project_slug}}" / "Dockerfile").read_text()
    init = (DOCKERFILES / "docker-init.Dockerfile").read_text()
    for text in (template, init):
        rewritten = bench.isolate_cache_mounts(text, "t0k")
        assert text.count("--mount=type=cache,") == rewritten.count("id=bench-t0k-") > 0


def test_one_line_change_changes_exactly_one_line():
    program = 'package main\n\nfunc f() {\n\tfmt.Fprintln(w, "Hello from svc")\n}\n'
    changed = bench.one_line_change(program, "rebuild 1")
    diff = [(a, b) for a, b in zip(program.splitlines(), changed.splitlines()) if a != b]
    assert diff == [('\tfmt.Fprintln(w, "Hello from svc")', '\tfmt.Fprintln(w, "Hello (rebuild 1) from svc")')]
    with pytest.raises(ValueError):
        bench.one_line_change("package main\n", "x")


def test_vm_rss_and_seed_go_mod():
    assert bench.vm_rss_kib("Name:\tsvc\nVmPeak:\t  9999 kB\nVmRSS:\t    9152 kB\n") == 9152
    assert bench.vm_rss_kib("Name:\tzombie\n") is None
    assert bench.seed_go_mod("1.27") == "module app\n\ngo 1.27\n"


def test_variants_cover_the_issue():
    import service_template as st

    variants = bench.all_variants()
    names = [v.name for v in variants]
    assert len(names) == len(set(names))
    # Every runtime_base x upx of ours, from the template's own choices.
    assert {f"ours-{b}{s}" for b in st.CHOICES["runtime_base"] for s in ("", "-upx")} <= set(names)
    assert {"docker-init", report.REFERENCE, "seed-herman-multi", "ours-scratch-upx"} <= set(names)
    for variant in variants:
        assert variant.group in {"ours", "seed", "peer"}
        if variant.dockerfile is not None:
            text = variant.dockerfile.read_text()
            assert text.startswith("# "), f"{variant.name}: header comment naming its source"
            # Every non-scratch base is a build arg the benchmark points at a stand-in.
            for line in text.splitlines():
                if line.startswith("FROM ") and "scratch" not in line:
                    assert "${" in line, f"{variant.name}: {line}"
            for arg in variant.build_args:
                assert f"ARG {arg}=" in text
        for standin in variant.standins():
            assert standin["image"].startswith("standin/")
            assert standin["official"] in bench.OFFICIAL_DOCUMENTED


def test_final_standin_is_the_base_of_the_shipped_image():
    variants = {v.name: v for v in bench.all_variants()}
    assert variants["ours-scratch"].final_standin() is None
    assert variants["seed-herman-scratch"].final_standin() is None
    assert variants["ours-alpine"].final_standin()["image"] == bench.STANDIN_ALPINE
    assert variants["seed-herman-naive"].final_standin() == {"image": bench.STANDIN_GO, "official": "golang:1.10.3"}
    assert variants["docker-init"].final_standin()["official"] == "alpine:latest"


def test_every_seed_dockerfile_is_benchmarked():
    files = {p.name.removesuffix(".Dockerfile") for p in DOCKERFILES.glob("*.Dockerfile")}
    assert files == {v.name for v in bench.all_variants() if v.dockerfile is not None}


def test_select_by_glob_or_substring():
    variants = bench.all_variants()
    assert [v.name for v in bench.select(variants, ["ours-alpine*"])] == ["ours-alpine", "ours-alpine-upx"]
    assert {v.name for v in bench.select(variants, ["upx"])} >= {"ours-scratch-upx", "seed-minimal-upx"}
    assert bench.select(variants, None) == variants
    with pytest.raises(SystemExit, match="matches no variant"):
        bench.select(variants, ["nothing-like-this"])


def test_merge_replaces_only_the_remeasured_variants():
    old = results()
    new = results(variants=[{"name": "docker-init", "runs": [run(image_bytes=1)]},
                            {"name": "extra", "runs": []}])
    new["environment"] = {"date": "later"}
    merged = bench.merge(old, new)
    assert [v["name"] for v in merged["variants"]] == [
        "ours-scratch", "docker-init", "seed-herman-multi", "ours-scratch-upx", "extra"]
    assert merged["variants"][1]["runs"] == [run(image_bytes=1)]
    assert merged["environment"]["merged_at"] == "later"


def test_committed_results_render_to_the_committed_page():
    """docs/benchmarks.md is what report.py makes of results/latest.json (nobody edited one by hand)."""
    latest = ROOT / "benchmarks" / "results" / "latest.json"
    if not latest.exists():
        pytest.skip("no benchmark results committed yet (make bench)")
    data = json.loads(latest.read_text())
    assert (ROOT / "docs" / "benchmarks.md").read_text() == report.render_markdown(report.summarize(data))
