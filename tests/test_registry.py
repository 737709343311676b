"""Shipping the image to a real registry: Debian's `docker-registry` (the CNCF
distribution registry) on loopback, started by a fixture, never a mock.

- `make docker-push` pushes $(IMAGE):$(VERSION); the image comes back by digest and runs;
- its labels carry the version, the revision and the source;
- amd64 and arm64 images, built with BuildKit's cross-compilation (no emulation: the
  Dockerfile builds on the build platform), become one manifest list (`docker
  manifest`), whose entries name the right os/arch and whose arm64 binary is an
  aarch64 ELF, read from the registry with skopeo;
- `make docker-buildx` refuses in one line where the buildx plugin is missing;
- Renovate, with the service's renovate.json, looks the runtime base image up in that
  registry and proposes to pin exactly the digest the registry reports (digest pinning
  end to end; elsewhere only Renovate's extraction is tested, offline).

The Docker engine talks plain HTTP to a registry on 127.0.0.0/8 without any
--insecure-registry setting; skopeo and `docker manifest` are told --tls-verify=false
and --insecure. `bash .ci/run` installs docker-registry and skopeo (Debian packages).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import service_template as st
from conftest import (
    RENOVATE_ENV,
    build_args,
    copier_generate,
    elf_is_static,
    elf_machine,
    free_port,
    need,
    renovate_tool,
    run,
    wait_for_200,
)

pytestmark = pytest.mark.docker

VERSION, COMMIT = "1.2.3", "abc1234"
EM_X86_64, EM_AARCH64 = 62, 183  # ELF e_machine values
WAIT = 60.0  # bound on the registry's start (not a speed target)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A registry on 127.0.0.1:<free port>, its storage in a temporary folder; 'host:port'."""
    binary = need("docker-registry", "a real registry for the push tests: apt-get install docker-registry")
    root = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'storage'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = (root / "registry.log").open("w")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        if wait_for_200(f"http://127.0.0.1:{port}/v2/", WAIT) is None:
            pytest.fail(f"docker-registry did not answer within {WAIT:.0f} s:\n{(root / 'registry.log').read_text()}")
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def skopeo(*args: str) -> str:
    tool = need("skopeo", "reads images from the registry: apt-get install skopeo")
    return run([tool, *args], cwd=Path.cwd(), timeout=300).stdout


def inspect_remote(ref: str, *flags: str) -> Any:
    return json.loads(skopeo("inspect", "--tls-verify=false", *flags, f"docker://{ref}"))


def generated(tmp_path: Path, **answers: Any) -> Path:
    answers = {"project_name": "Billing API", "module_path": "github.com/acme/billing-api", **answers}
    return copier_generate(tmp_path / "svc", answers)


def make_env(docker: str, standin_images: dict[str, str], runtime_base: str) -> dict[str, str]:
    args = " ".join(f"--build-arg {k}={v}" for k, v in build_args(standin_images, runtime_base).items())
    return {"DOCKER": docker, "DOCKER_BUILD_ARGS": f"--network host {args}"}


@pytest.fixture
def cleanup_images(docker: str) -> Iterator[list[str]]:
    refs: list[str] = []
    yield refs
    for ref in refs:
        subprocess.run([docker, "rmi", "-f", ref], capture_output=True, timeout=120, check=False)


def test_make_docker_push_then_pull_by_digest_and_run(
    tmp_path: Path, docker: str, standin_images: dict[str, str], registry: str, cleanup_images: list[str]
) -> None:
    project = generated(tmp_path, app_kind="cli")
    image = f"{registry}/acme/billing-api-{uuid.uuid4().hex[:6]}"
    tag = f"{image}:{VERSION}"
    cleanup_images.append(tag)
    run(["make", "docker-push", f"IMAGE={image}", f"VERSION={VERSION}", f"COMMIT={COMMIT}"], cwd=project,
        timeout=1800, env=make_env(docker, standin_images, "scratch"))  # fmt: skip

    # The registry's own digest for the tag, and the engine's record of the push agree.
    digest = inspect_remote(tag)["Digest"]
    repo_digests = run([docker, "image", "inspect", "--format", "{{json .RepoDigests}}", tag], cwd=project).stdout
    assert f"{image}@{digest}" in json.loads(repo_digests)

    # Gone from the engine, then back from the registry by digest, and it runs.
    run([docker, "rmi", "-f", tag], cwd=project)
    by_digest = f"{image}@{digest}"
    cleanup_images.append(by_digest)
    run([docker, "pull", by_digest], cwd=project, timeout=300)
    out = run([docker, "run", "--rm", "--network", "none", by_digest, "-version"], cwd=project).stdout
    assert out.strip() == f"billing-api {VERSION} ({COMMIT})"


def test_the_pushed_images_labels_carry_version_revision_and_source(
    tmp_path: Path, docker: str, standin_images: dict[str, str], registry: str, cleanup_images: list[str]
) -> None:
    project = generated(tmp_path, runtime_base="distroless")
    image = f"{registry}/acme/labels-{uuid.uuid4().hex[:6]}"
    cleanup_images.append(f"{image}:{VERSION}")
    run(["make", "docker-push", f"IMAGE={image}", f"VERSION={VERSION}", f"COMMIT={COMMIT}"], cwd=project,
        timeout=1800, env=make_env(docker, standin_images, "distroless"))  # fmt: skip
    labels = inspect_remote(f"{image}:{VERSION}")["Labels"]
    assert labels["org.opencontainers.image.version"] == VERSION
    assert labels["org.opencontainers.image.revision"] == COMMIT
    assert labels["org.opencontainers.image.source"] == "https://github.com/acme/billing-api"


def binary_from_registry(ref: str, path: str, dest: Path) -> bytes:
    """The file `path` of the image `ref`, read from its layers as the registry serves them."""
    skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"dir:{dest}")
    manifest = json.loads((dest / "manifest.json").read_text())
    for layer in reversed(manifest["layers"]):  # the last layer that has it wins
        blob = dest / layer["digest"].split(":", 1)[1]
        with tarfile.open(fileobj=io.BytesIO(blob.read_bytes())) as tar:
            for member in tar.getmembers():
                if member.name.lstrip("./") == path:
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    return extracted.read()
    raise AssertionError(f"{path} is in no layer of {ref}")


def test_amd64_and_arm64_images_become_one_manifest_list(
    tmp_path: Path, docker: str, standin_images: dict[str, str], registry: str, cleanup_images: list[str]
) -> None:
    """BuildKit cross-compiles in the builder stage (on the build platform): the arm64
    image needs no emulation, and its scratch runtime stage no arm64 base image."""
    project = generated(tmp_path)
    image = f"{registry}/acme/multi-{uuid.uuid4().hex[:6]}"
    args = build_args(standin_images, "scratch")
    platforms = {"amd64": EM_X86_64, "arm64": EM_AARCH64}
    for arch in platforms:
        tag = f"{image}:{VERSION}-{arch}"
        cleanup_images.append(tag)
        argv = [docker, "build", "--network", "host", "--platform", f"linux/{arch}", "-t", tag,
                "--build-arg", f"VERSION={VERSION}", "--build-arg", f"COMMIT={COMMIT}"]  # fmt: skip
        for name, value in args.items():
            argv += ["--build-arg", f"{name}={value}"]
        run([*argv, "."], cwd=project, timeout=1800, env={"DOCKER_BUILDKIT": "1"})
        run([docker, "push", tag], cwd=project, timeout=300)

    # The manifest list: docker manifest (experimental in the 20.10 client), plain HTTP.
    index = f"{image}:{VERSION}"
    experimental = {"DOCKER_CLI_EXPERIMENTAL": "enabled"}
    run([docker, "manifest", "create", "--insecure", index, *(f"{image}:{VERSION}-{arch}" for arch in platforms)],
        cwd=project, env=experimental)  # fmt: skip
    run([docker, "manifest", "push", "--purge", "--insecure", index], cwd=project, env=experimental, timeout=300)

    listed = json.loads(skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{index}"))
    assert listed["mediaType"] in {"application/vnd.docker.distribution.manifest.list.v2+json",
                                   "application/vnd.oci.image.index.v1+json"}  # fmt: skip
    entries = {entry["platform"]["architecture"]: entry for entry in listed["manifests"]}
    assert sorted(entries) == sorted(platforms)
    slug = "billing-api"
    for arch, machine in platforms.items():
        assert entries[arch]["platform"]["os"] == "linux"
        ref = f"{image}@{entries[arch]['digest']}"
        config = inspect_remote(ref, "--config")
        assert (config["os"], config["architecture"]) == ("linux", arch), "the image config's own platform"
        binary = binary_from_registry(ref, f"usr/local/bin/{slug}", tmp_path / f"layers-{arch}")
        assert elf_machine(binary[:64]) == machine, f"the {arch} binary is not built for {arch}"
        assert elf_is_static(binary[:4096])


def test_make_docker_buildx_refuses_in_one_line_without_buildx(tmp_path: Path, docker: str) -> None:
    """The engine here has no buildx plugin (Debian's 20.10 client): the target says so."""
    if subprocess.run([docker, "buildx", "version"], capture_output=True).returncode == 0:
        pytest.skip("this docker client has buildx; the refusal cannot be shown here")
    project = generated(tmp_path)
    proc = subprocess.run(["make", "docker-buildx"], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "DOCKER": docker})  # fmt: skip
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[0] == "docker-buildx: install the buildx plugin (docker-buildx-plugin) first"


def test_renovate_proposes_the_digest_the_registry_reports_for_the_base_image(
    tmp_path: Path, docker: str, standin_images: dict[str, str], registry: str, cleanup_images: list[str]
) -> None:
    """Digest pinning end to end: the generated renovate.json, Renovate's own lookup (a dry
    run, local platform) against the registry, and the digest the registry itself reports."""

    renovate = renovate_tool("renovate")
    base = f"{registry}/distroless/static-debian12:nonroot"
    cleanup_images.append(base)
    run([docker, "tag", standin_images["distroless"], base], cwd=tmp_path)
    run([docker, "push", base], cwd=tmp_path, timeout=300)
    digest = inspect_remote(base)["Digest"]

    project = generated(tmp_path, runtime_base="distroless")
    dockerfile = project / "Dockerfile"
    default = f"ARG RUNTIME_IMAGE={st.BASE_IMAGES['distroless']}\n"
    assert dockerfile.read_text().count(default) == 1
    dockerfile.write_text(dockerfile.read_text().replace(default, f"ARG RUNTIME_IMAGE={base}\n"))
    config = json.loads((project / "renovate.json").read_text())
    # The service's own rules, told that this registry speaks plain HTTP, and only the
    # runtime image looked up: Docker Hub (the Go image) and the template's git tags are
    # not reachable here, and Renovate stops the whole run at an unreachable host.
    config |= {"hostRules": [{"matchHost": registry, "insecureRegistry": True}], "enabledManagers": ["dockerfile"],
               "ignoreDeps": ["golang"]}
    (project / "renovate.json").write_text(json.dumps(config))
    identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}  # fmt: skip
    run(["git", "init", "-q"], cwd=project)
    run(["git", "add", "-A"], cwd=project)
    run(["git", "commit", "-qm", "service"], cwd=project, env=identity)
    log = run([renovate, "--platform=local", "--dry-run=lookup", "--onboarding=false"], cwd=project,
              timeout=600, env=RENOVATE_ENV).stdout  # fmt: skip
    name = base.rsplit(":", 1)[0]
    updates = [
        update
        for line in log.splitlines() if line.startswith("{") and '"packageFiles with updates"' in line
        for dep in dependencies(json.loads(line)) if dep["depName"] == name
        for update in dep.get("updates", [])
    ]
    assert updates, f"Renovate proposed nothing for {base}:\n{log[-3000:]}"
    pins = [update for update in updates if update["updateType"] == "pinDigest"]
    assert [pin["newDigest"] for pin in pins] == [digest], updates


def dependencies(node: Any) -> Iterator[dict[str, Any]]:
    """Every dependency (a dict with depName) anywhere in a Renovate log record."""
    if isinstance(node, dict):
        if "depName" in node:
            yield node
        for value in node.values():
            yield from dependencies(value)
    elif isinstance(node, list):
        for value in node:
            yield from dependencies(value)

