"""The benchmark's pure parts: medians, ratios, targets, markdown, and the Dockerfile rewrites.

No Docker here: the measuring half (benchmarks/bench.py) is a script, not a test.
"""

from __future__ import annotations

import json
import re
import subprocess
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


# -- verification: the cost of proving the service --------------------------------

STEPS = {"go checks": 90.0, "docker build": 80.0, "image size": 0.1, "non-root user": 0.1,
         "static binary": 1.0, "smoke run": 0.8}


def verification(cold=None, pairs=None, platform_pairs=(), **overrides):
    """One repeat's raw figures: copier 100 s vs a cold build 80 s; three warm pairs, medians 22 s vs 10 s."""
    cold = {"copier_verify_s": 100.0, "generate_s": 2.0, "cold_build_s": 80.0, "verify_steps": STEPS,
            "verify_summary": "verify: 6 ok, 0 failed, 0 skipped: verified", **(cold or {})}
    if pairs is None:
        pairs = [{"make_verify_s": s, "docker_build_s": b, "verify_steps": {"docker build": s - 4, "go checks": s}}
                 for s, b in ((20.0, 10.0), (24.0, 12.0), (22.0, 8.0))]
    data = {"environment": {"date": "2025-01-02T00:00:00+00:00", "template": "git abc1234", "storage_driver": "vfs"},
            "runs": [{"repeat": 1, "cold": cold, "warm": {"first_make_verify_s": 40.0, "pairs": pairs,
                                                           "platform_pairs": list(platform_pairs)}}]}
    data.update(overrides)
    return data


def test_verification_medians_ratios_and_passing_targets():
    v = report.summarize_verification(verification())
    assert v["median"] == {"copier_verify_s": 100.0, "generate_s": 2.0, "cold_build_s": 80.0,
                           "make_verify_s": 22.0, "warm_build_s": 10.0,
                           "platform_make_verify_s": None, "platform_warm_build_s": None}
    assert v["ratio"] == {"cold": pytest.approx(1.25), "warm": pytest.approx(2.2), "warm_platform": None}
    assert v["counts"] == {"cold": 1, "warm": 3, "warm_platform": 0}
    # A change in the platform package: its own medians and ratio, never the target's.
    platform = [{"make_verify_s": 30.0, "docker_build_s": 10.0}, {"make_verify_s": 36.0, "docker_build_s": 12.0}]
    v = report.summarize_verification(verification(platform_pairs=platform))
    assert (v["median"]["platform_make_verify_s"], v["median"]["platform_warm_build_s"]) == (33.0, 11.0)
    assert v["ratio"]["warm_platform"] == pytest.approx(3.0) and v["counts"]["warm_platform"] == 2
    assert v["ratio"]["warm"] == pytest.approx(2.2) and v["targets"][1]["status"] == "PASS"
    assert v["steps"]["warm"] == {"docker build": 18.0, "go checks": 22.0}
    targets = {t["name"]: t for t in v["targets"]}
    assert [t["status"] for t in targets.values()] == ["PASS", "PASS"]
    assert targets["verify-cold"]["threshold"] == 1.3 and targets["verify-warm"]["threshold"] == 2.5
    assert targets["verify-cold"]["detail"] == "copier copy + verify 100.0 s / cold docker build 80.0 s = 1.25x"
    assert targets["verify-warm"]["detail"] == "make verify 22.0 s / warm docker build 10.0 s = 2.20x"
    assert targets["verify-cold"]["why_not"] == targets["verify-warm"]["why_not"] == ""


def test_verification_targets_are_at_most_their_thresholds():
    exactly = report.summarize_verification(verification(
        cold={"copier_verify_s": 104.0}, pairs=[{"make_verify_s": 25.0, "docker_build_s": 10.0}]))
    assert [t["status"] for t in exactly["targets"]] == ["PASS", "PASS"]  # 1.3x and 2.5x themselves pass
    over = report.summarize_verification(verification(
        cold={"copier_verify_s": 104.5}, pairs=[{"make_verify_s": 25.5, "docker_build_s": 10.0}]))
    assert [t["status"] for t in over["targets"]] == ["FAIL", "FAIL"]


def test_a_failing_verification_target_says_where_the_seconds_went():
    v = report.summarize_verification(verification(
        cold={"copier_verify_s": 120.0},
        pairs=[{"make_verify_s": 30.0, "docker_build_s": 10.0, "verify_steps": {"docker build": 11.0,
                                                                               "go checks": 29.0, "smoke run": 2.0}}]))
    cold, warm = v["targets"]
    assert cold["status"] == warm["status"] == "FAIL"
    assert cold["detail"].endswith("= 1.50x")
    assert "1.3x the cold build is 104.0 s, 16.0 s less" in cold["why_not"]
    assert "generating the service took 2.0 s and verify.sh 118.0 s" in cold["why_not"]
    assert "docker build step 80.0 s (the plain cold build: 80.0 s)" in cold["why_not"]
    assert "the image checks after it 2.0 s" in cold["why_not"]  # 0.1 + 0.1 + 1.0 + 0.8
    assert "the go checks beside them 90.0 s" in cold["why_not"]
    assert "waited 8.0 s for the go checks after the image side was done" in cold["why_not"]  # 90 - 80 - 2
    assert "2.5x the warm build is 25.0 s, 5.0 s less" in warm["why_not"]
    assert "docker build step took 11.0 s (the plain warm build: 10.0 s)" in warm["why_not"]
    assert "image checks after it 2.0 s, the go checks beside them 29.0 s" in warm["why_not"]
    assert "waited 16.0 s for the go checks" in warm["why_not"]  # 29 - 11 - 2
    quick = report.summarize_verification(verification(cold={"copier_verify_s": 120.0, "verify_steps": {
        "docker build": 80.0, "go checks": 81.0, "smoke run": 3.0}}))
    assert "waited" not in quick["targets"][0]["why_not"]  # the checks ended before the image side did


def test_a_run_that_did_not_verify_fails_its_target_whatever_the_ratio():
    data = verification()
    pairs = data["runs"][0]["warm"]["pairs"]
    pairs.append({"make_verify_s": 1.0, "docker_build_s": 10.0,
                  "error": "make verify: output ended 'verify: 5 ok, 1 failed,\n 0 skipped: NOT verified'"})
    v = report.summarize_verification(data)
    cold, warm = v["targets"]
    assert cold["status"] == "PASS"
    assert warm["status"] == "FAIL"
    assert v["median"]["make_verify_s"] == 22.0 and v["counts"]["warm"] == 3  # the failed pair counts for nothing
    assert warm["detail"].endswith("= 2.20x")
    assert warm["why_not"] == ("1 did not verify: make verify: output ended "
                               "'verify: 5 ok, 1 failed, 0 skipped: NOT verified'")  # on one line
    # Nothing verified: no figure, still a failure, not "n/a".
    data = verification(cold={"error": "copier copy with VERIFY=on: exit 1"})
    data["runs"][0]["warm"] = {"error": "not measured: the cold part failed", "pairs": []}
    cold, warm = report.summarize_verification(data)["targets"]
    assert (cold["status"], cold["detail"], cold["measured"]) == ("FAIL", "not measured", None)
    assert warm["status"] == "FAIL" and "the cold part failed" in warm["why_not"]


def test_verification_not_measured_is_na():
    cold, warm = report.summarize_verification({"runs": []})["targets"]
    assert cold["status"] == warm["status"] == "n/a"


def test_verification_section_on_the_page():
    data = results(verification=verification(platform_pairs=[{"make_verify_s": 30.0, "docker_build_s": 10.0}]))
    page = report.render_markdown(report.summarize(data))
    assert [t["name"] for t in data["targets"]] == ["scratch-overhead", "vs-docker-init", "warm-rebuild", "upx-size"]
    section = page[page.index("## Verification: the cost of proving the service"):page.index("## Variants")]
    assert "medians of **1** cold run and **3** warm pairs" in section
    assert ("| cold: `copier copy` with VERIFY=on, until a verified image, within 1.3x one cold `docker build` "
            "| **PASS** | copier copy + verify 100.0 s / cold docker build 80.0 s = 1.25x |") in section
    assert ("| warm: `make verify` after a one-line change within 2.5x one warm `docker build` | **PASS** "
            "| make verify 22.0 s / warm docker build 10.0 s = 2.20x |") in section
    assert "| plain `docker build` | 80.0 s | 10.0 s |" in section
    assert "| ratio | 1.25x | 2.20x |" in section
    assert ("| not the target's: `make verify` / `docker build` after a change in internal/platform (1 pair) "
            "| – | 30.0 s / 10.0 s = 3.00x |") in section
    assert "| verify.sh step: docker build | 80.0 s | 18.0 s |" in section
    assert "| verify.sh step: smoke run | 0.8 s | – |" in section
    assert "Why the failing targets fail" not in section
    assert "template: git abc1234; storage driver: vfs" in section
    # Every row of its tables has its header's number of cells.
    for header, prefix in (("| Target |", "| cold:"), ("| Seconds (medians) |", "| verify.sh step")):
        head = next(line for line in section.splitlines() if line.startswith(header))
        rows = [line for line in section.splitlines() if line.startswith(prefix)]
        assert rows and all(row.count(" | ") == head.count(" | ") for row in rows)
    slow = verification(cold={"copier_verify_s": 120.0})
    failing = report.render_markdown(report.summarize(results(verification=slow)))
    assert "\n- cold: `copier copy` with VERIFY=on" in failing and "| **FAIL** | copier copy" in failing
    # No verification measured: no section.
    assert "## Verification" not in report.render_markdown(report.summarize(results()))


def test_add_route_adds_exactly_one_line_to_main_go():
    program = (ROOT / "{{cookiecutter.project_slug}}" / "main.go").read_text()
    changed = bench.add_route(program, "verify-1")
    added = [line for line in changed.splitlines() if line not in program.splitlines()]
    assert added == ['\tmux.HandleFunc("GET /verify-1", hello)']
    assert len(changed.splitlines()) == len(program.splitlines()) + 1
    assert changed.index(added[0]) > changed.index('mux.HandleFunc("GET /{$}", hello)')
    assert bench.add_route(program, "a") != bench.add_route(program, "b")
    with pytest.raises(ValueError):
        bench.add_route("package main\n\nfunc main() {}\n", "x")


def test_change_listening_message_changes_exactly_one_line():
    platform = ROOT / "{{cookiecutter.project_slug}}" / "internal" / "platform"
    template = (platform / "{% if cookiecutter.app_kind == 'http' %}server.go{% endif %}").read_text()
    changed = bench.change_listening_message(template, "verify 1")
    diff = [(a, b) for a, b in zip(template.splitlines(), changed.splitlines()) if a != b]
    assert len(diff) == 1 and len(template.splitlines()) == len(changed.splitlines())
    assert 'Logger.Info("listening (verify 1)", "addr"' in diff[0][1]
    assert bench.change_listening_message(template, "a") != bench.change_listening_message(template, "b")
    # The service's tests check the greeting, not this message: make verify still passes after it.
    tests = [ROOT / "{{cookiecutter.project_slug}}" / "main_test.go", *platform.glob("*_test.go*")]
    assert all('"listening' not in path.read_text() for path in tests)
    with pytest.raises(ValueError):
        bench.change_listening_message('package main\n\nfunc main() { println("Hello from x") }\n', "x")


VERIFY_SH = ROOT / "{{cookiecutter.project_slug}}" / "scripts" / "verify.sh"


def _verify_sh_output(steps, mode="on"):
    """What scripts/verify.sh prints for these (status, name, seconds, detail) steps: its own
    now() and report(), then its own closing lines, run by bash."""
    script = VERIFY_SH.read_text()
    functions = script[script.index("\nnow() "):script.index("\n}\n", script.index("\nreport() ")) + 3]
    closing = script[script.index('\nCOUNTS="$OK ok'):]
    shell = [f"MODE={mode} OK=0 FAILED=0 SKIPPED=0 RESULT=", functions]
    for step_status, name, seconds, detail in steps:
        shell.append(f"""start=$(awk -v n="$(now)" -v s="{seconds}" 'BEGIN {{ printf "%.6f", n - s }}')""")
        shell.append(f'report "{step_status}" "{name}" "$start" "{detail}"')
    proc = subprocess.run(["bash", "-c", "\n".join([*shell, closing])], capture_output=True, text=True)
    assert proc.returncode in (0, 1) and not proc.stderr, proc.stderr
    return proc.stdout


def test_parse_verify_output_reads_verify_sh_result_line():
    output = "verify: checking hello-service in /tmp/x/svc (VERIFY=on)\n" + _verify_sh_output([
        ("ok", "docker build", "45.2", "verify-hello-service-1:latest"),
        ("ok", "non-root user", "0.1", "USER 65532:65532"),
        ("ok", "smoke run", "123.0", "/healthz answered 200"),
        ("ok", "go checks", "61.0", "gofmt, go vet, go test (the Dockerfile's test stage)"),
    ])
    assert output.splitlines()[-1].startswith(bench.RESULT_PREFIX)
    parsed = bench.parse_verify_output(output)
    assert parsed == {"verified": True, "summary": "verify: 4 ok, 0 failed, 0 skipped: verified",
                      "steps": {"docker build": 45.2, "non-root user": 0.1, "smoke run": 123.0, "go checks": 61.0}}


def test_parse_verify_output_refuses_anything_short_of_verified():
    failed = _verify_sh_output([("ok", "docker build", "3.0", "img"), ("FAIL", "smoke run", "30.1", "no 200")])
    parsed = bench.parse_verify_output(failed)
    assert not parsed["verified"] and parsed["steps"] == {"docker build": 3.0, "smoke run": 30.1}
    skipped = _verify_sh_output([("skip", "docker build", "0.0", "no docker"), ("ok", "go checks", "1.0", "x")])
    assert "verified, except the skipped steps" in skipped
    assert not bench.parse_verify_output(skipped)["verified"]  # VERIFY=on allows skips; the benchmark does not
    # The human lines alone, without the result line, are not read.
    human = "\n".join(line for line in failed.splitlines() if not line.startswith(bench.RESULT_PREFIX))
    assert bench.parse_verify_output(human.replace("1 failed", "0 failed"))["verified"] is False
    later = _verify_sh_output([("ok", "docker build", "3.0", "img")]) + "more\n"
    assert not bench.parse_verify_output(later)["verified"]  # the output must END with it
    assert bench.parse_verify_output("") == {"verified": False, "summary": "", "steps": {}}
    assert not bench.parse_verify_output(bench.RESULT_PREFIX + "{not json\n")["verified"]


def test_run_timed_marks_lines_and_stops_at_the_timeout(tmp_path):
    timed = bench.run_timed(["sh", "-c", "echo start; sleep 0.3; echo 'verify: checking x'; echo oops >&2; exit 3"],
                            tmp_path, {"PATH": "/usr/bin:/bin"}, marks=("verify: checking", "never"))
    assert timed.returncode == 3 and timed.stdout == "start\nverify: checking x\n" and timed.stderr == "oops\n"
    assert 0.3 <= timed.marks["verify: checking"] <= timed.seconds and "never" not in timed.marks
    stopped = bench.run_timed(["sh", "-c", "sleep 30"], tmp_path, {"PATH": "/usr/bin:/bin"}, timeout=0.3)
    assert stopped.returncode is None and stopped.seconds < 10
    assert "timeout" in bench._not_verified("x", stopped, bench.parse_verify_output(""))


def test_not_verified_says_why_in_one_line():
    ok = bench.parse_verify_output(_verify_sh_output([("ok", "docker build", "1.0", "i")]))
    assert bench._not_verified("make verify", bench.Timed(1.0, 0, "", "", {}), ok) is None
    assert "exit 2" in bench._not_verified("make verify", bench.Timed(1.0, 2, "", "a\nb\n", {}), ok)
    not_ok = bench.parse_verify_output(_verify_sh_output([("FAIL", "lint", "1.0", "x")]))
    why = bench._not_verified("make verify", bench.Timed(1.0, 0, "", "", {}), not_ok)
    assert "NOT verified" in why and "\n" not in why
    unread = bench.parse_verify_output("verify: 1 ok, 0 failed, 0 skipped: verified\n")
    assert "steps none" in bench._not_verified("make verify", bench.Timed(1.0, 0, "", "", {}), unread)


def test_verification_env_points_at_the_standin_and_the_host_network():
    env = bench.verification_env()
    assert env["VERIFY"] == "on" and env["GO_IMAGE"] == bench.STANDIN_GO
    assert env["VERIFY_DOCKER_NETWORK"] == "host" and env["DOCKER"] == bench.DOCKER
    assert env["DOCKER_BUILDKIT"] == "1"


def test_merge_keeps_or_replaces_the_verification():
    old = results(verification=verification())
    new = results(variants=[{"name": "docker-init", "runs": []}])
    new["environment"] = {"date": "later"}
    assert bench.merge(old, new)["verification"] == old["verification"]  # not re-measured: kept
    new["verification"] = {"runs": []}
    assert bench.merge(old, new)["verification"] == {"runs": []}


def test_only_verification_measures_no_variant():
    for argv in (["--only-verification", "--only", "ours-*"], ["--only-verification", "--skip-verification"],
                 ["--only-verification", "--verification-pairs", "0"]):
        with pytest.raises(SystemExit) as exc:
            bench.main(argv)
        assert exc.value.code == 2


# -- throughput: requests/s and p99 --------------------------------------------------

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:4000/
  1 threads and 32 connections
  Latency Distribution
     50%    1.20ms
     75%    1.90ms
     90%  812.00us
     99%   12.50ms
  70000 requests in 5.00s, 9.00MB read
Requests/sec:  14000.25
Transfer/sec:      1.80MB
"""


def test_parse_wrk_reads_requests_per_second_and_p99_in_ms():
    assert bench.parse_wrk(WRK_OUTPUT) == {"rps": 14000.25, "p99_ms": 12.5}
    assert bench.parse_wrk(WRK_OUTPUT.replace("12.50ms", "900.00us"))["p99_ms"] == pytest.approx(0.9)
    assert bench.parse_wrk(WRK_OUTPUT.replace("12.50ms", "1.50s"))["p99_ms"] == 1500.0
    with pytest.raises(ValueError):
        bench.parse_wrk("unable to connect to 127.0.0.1:4000 Connection refused")


PROC_STAT = "cpu  1000 20 300 9000 50 7 13 60 0 0\ncpu0 500 10 150 4500 25 3 7 30 0 0\n"


def test_machine_and_process_cpu_seconds_read_proc():
    # busy: user 1000 + nice 20 + system 300 + irq 7 + softirq 13, and steal 60; not idle or iowait.
    assert bench.machine_cpu_seconds(PROC_STAT, 100) == pytest.approx(14.0)
    # A command name with spaces and a ")" does not shift the fields: utime 250 + stime 50.
    pid_stat = "4242 (my (odd) server) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 0 0"
    assert bench.process_cpu_seconds(pid_stat, 100) == pytest.approx(3.0)
    # This machine's own files: the process's CPU time, and the machine's, grow with work done here.
    before = bench.read_cpu_clock(bench.os.getpid())
    deadline = bench.time.process_time() + 0.3
    while bench.time.process_time() < deadline:
        pass
    after = bench.read_cpu_clock(bench.os.getpid())
    assert after.server - before.server >= 0.2 and after.machine - before.machine >= 0.2


def clock(machine, server, children, wall):
    return bench.CpuClock(machine=machine, server=server, children=children, wall=wall)


def test_a_run_disturbed_by_other_load_is_measured_again():
    # A 2 s run: the server used 1.95 CPU seconds and wrk 1.45; the machine 3.45 (quiet), or 4.6 (a busy loop's 1.2 s).
    start = clock(machine=100.0, server=10.0, children=5.0, wall=50.0)
    quiet = bench.other_load(start, clock(machine=103.45, server=11.95, children=6.45, wall=52.0))
    busy = bench.other_load(start, clock(machine=104.6, server=11.95, children=6.45, wall=52.0))
    assert quiet == pytest.approx(0.025) and busy == pytest.approx(0.6)
    # The ticks' rounding can make a quiet run's slightly negative: kept, to show the noise.
    assert bench.other_load(start, clock(machine=103.3, server=11.95, children=6.45, wall=52.0)) < 0
    runs = iter([{"rps": 40000.0, "other_load": busy}, {"rps": 41000.0, "other_load": busy},
                 {"rps": 60000.0, "other_load": quiet}])
    assert bench.quiet_run(lambda: next(runs)) == {"rps": 60000.0, "other_load": quiet, "measured_again": 2}
    # Never quiet: left out as missing, so its round's ratio is not read from a slowed run.
    never = bench.quiet_run(lambda: {"rps": 40000.0, "other_load": busy})
    assert "error" in never and "rps" not in never and never["measured_again"] == 2
    # A run that failed is not measured again: its error stands.
    assert bench.quiet_run(lambda: {"error": "refused", "other_load": busy}) == {
        "error": "refused", "other_load": busy, "measured_again": 0}
    # The control: with no limit, the same three tries keep the slowed first run.
    runs = iter([{"rps": 40000.0, "other_load": busy}, {"rps": 60000.0, "other_load": quiet}])
    assert bench.quiet_run(lambda: next(runs), limit=float("inf"))["rps"] == 40000.0


def test_the_page_says_how_quiet_the_machine_was():
    t = throughput(9500.0, 14.0)
    t["environment"].update(other_load_max=0.1, quiet_tries=3)
    t["servers"][0]["runs"][0].update(other_load=0.04, measured_again=1)
    t["servers"][1]["runs"][1].update(other_load=0.02, measured_again=0)
    t["servers"][1]["runs"].append({"error": "other load of 0.50 CPU in each of 3 runs", "other_load": 0.5,
                                    "measured_again": 2})
    section = "\n".join(report.render_throughput(report.summarize_throughput(t)))
    assert ("a run where that passed 0.1 of a CPU was measured again, up to 3 times in all: 2 of 11 runs were measured "
            "again, 1 never quiet (left out), and the kept runs' highest other load was 0.04 of a CPU.") in section
    assert "other load was not recorded" in "\n".join(report.render_throughput(report.summarize_throughput(throughput(1.0, 1.0))))


def throughput(ours_rps, ours_p99, seed_rps=10000.0, seed_p99=10.0, binary=7_700_000):
    """Two rounds: ours answers in the first only; four hello-world builds around the seed's figures."""
    hello = [{"name": name, "title": "seed", "runs": [{"rps": seed_rps + shift, "p99_ms": seed_p99},
                                                      {"rps": seed_rps + shift, "p99_ms": seed_p99}]}
             for name, shift in zip(report.HELLO_WORLDS, (-100.0, 0.0, 0.0, 300.0), strict=True)]
    servers = [{"name": "ours", "title": "ours", "runs": [{"rps": ours_rps, "p99_ms": ours_p99}, {"error": "did not answer"}]},
               *hello]  # fmt: skip
    return {"environment": {"pairs": 2, "seconds": 5, "connections": 32, "server_cpu": 0, "load_cpu": 1},
            "ours_binary_bytes": binary, "servers": servers}


@pytest.mark.parametrize("ours_rps, ours_p99, binary, statuses", [
    (9500.0, 14.0, 7_800_000, ["PASS", "PASS", "PASS"]),
    (8000.0, 16.0, 7_900_000, ["FAIL", "FAIL", "FAIL"]),
], ids=["meets", "control-misses"])  # fmt: skip
def test_throughput_targets_are_the_ratio_against_the_bare_hello_world(ours_rps, ours_p99, binary, statuses):
    t = report.summarize_throughput(throughput(ours_rps, ours_p99, binary=binary))
    assert [target["status"] for target in t["targets"]] == statuses
    # The round's reference is the hello-world builds' median: 10,000 (not seed-same-flags' 9,900).
    assert t["servers"][0]["ratio"]["rps"] == pytest.approx(ours_rps / 10000.0)
    assert t["servers"][0]["ratio_range"]["rps"] == [pytest.approx(ours_rps / 10000.0)] * 2
    assert all(target["why_not"] for target in t["targets"] if target["status"] == "FAIL")


def test_the_median_interval_narrows_with_more_rounds_and_renders_the_same_each_time():
    rounds = [0.8, 0.85, 0.9, 0.92, 0.93, 0.95, 0.97, 1.0, 1.05, 1.1]
    low, high = report.median_interval(rounds)
    assert low <= report.median(rounds) <= high and (low, high) == report.median_interval(rounds)
    low3, high3 = report.median_interval(rounds * 9)  # the same spread, 9 times the rounds
    assert low <= low3 <= high3 <= high and high3 - low3 < (high - low) / 2
    assert report.median_interval([0.9] * 5) == (0.9, 0.9)


def test_each_round_is_compared_with_its_own_reference():
    """A round on a busier machine slows ours and the hello worlds alike: the ratio holds.
    In round 3 the machine was quiet while ours ran and busy while the hello worlds did."""
    servers = [{"name": "ours", "runs": [{"rps": r, "p99_ms": 10.0} for r in (9000.0, 4500.0, 8000.0)]}]
    servers += [{"name": name, "runs": [{"rps": r, "p99_ms": 10.0} for r in (10000.0, 5000.0, 5000.0)]}
                for name in report.HELLO_WORLDS]
    t = report.summarize_throughput({"environment": {}, "servers": servers})
    assert t["servers"][0]["ratio"]["rps"] == pytest.approx(0.9)
    assert t["servers"][0]["ratio_range"]["rps"] == [pytest.approx(0.9), pytest.approx(1.6)]
    # The control: medians over all rounds first, then their ratio, reads round 3's luck as 1.6x.
    pooled = report.median(r["rps"] for r in servers[0]["runs"]) / report.median(r["rps"] for r in servers[1]["runs"])
    assert pooled == pytest.approx(1.6)


def test_throughput_not_measured_is_na_and_the_page_shows_the_section():
    empty = report.summarize_throughput({"environment": {}, "servers": []})
    assert [t["status"] for t in empty["targets"]] == ["n/a", "n/a", "n/a"]
    page = report.render_markdown(report.summarize(results(throughput=throughput(9500.0, 14.0))))
    section = page.split("## Throughput: the cost per request")[1].split("\n## ")[0]
    assert "| **ours** | ours | 9,500 (0.95x) | 14.00 ms (1.40x) |" in section
    assert "| seed-same-flags | seed | 9,900 (0.99x) | 10.00 ms (1.00x) |" in section
    assert "at least 0.9x" in section and "at most 1.5x" in section and "within 2%" in section
    assert "## Throughput" not in report.render_markdown(report.summarize(results()))


def test_the_hello_world_answers_what_the_service_answers():
    """Same response body: the bare server's greeting is the generated service's (default slug)."""
    hello = (ROOT / "benchmarks" / "hello" / "main.go").read_text()
    main_go = (ROOT / "{{cookiecutter.project_slug}}" / "main.go").read_text()
    assert 'w.Write([]byte("Hello from hello-service\\n"))' in hello
    assert 'w.Write([]byte("Hello from {{ c.project_slug }}\\n"))' in main_go
