"""Real modules in the image build, each through the service's own `make verify` in Docker.

A private module behind an authenticated module proxy on loopback (conftest.ModuleProxy;
its credentials reach the build only as a BuildKit secret), a local `replace` module, a
vendored service and a public module through the Go module proxy. Beside them: the
credentials are in no layer, config or history (control: passed as a build arg, they
are); go.mod's go line against the builder's Go; every image target takes the same build
inputs as `make verify`; `copier update --data go_version=` moves go.mod, the answers
file and the builder image together.
"""

from __future__ import annotations

import functools
import io
import os
import re
import secrets
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from plumbum import local

from conftest import ROOT, ModuleProxy, copier_generate, docker_build, run

PUBLIC_MODULE, PUBLIC_VERSION = "github.com/google/uuid", "v1.6.0"
VERIFY_TIMEOUT = 900  # bound on one `make verify` (not a speed target)


@functools.cache
def builder_go(docker: str, image: str) -> str:
    """The builder image's Go release as go_version spells it (1.27 for go1.27.3)."""
    version = run([docker, "run", "--rm", image, "go", "env", "GOVERSION"], cwd=ROOT).stdout.strip()
    match = re.fullmatch(r"go(1\.\d+)(\.\d+)?", version)
    assert match, version
    return match.group(1)


def service(tmp_path: Path, docker: str, images: dict[str, str], **answers: Any) -> Path:
    """A cli service (the quickest smoke run) for the Go of the builder it is verified with."""
    go_version = builder_go(docker, images["go"])
    return copier_generate(tmp_path / "service", {"app_kind": "cli", "go_version": go_version, **answers})


def verify_env(images: dict[str, str], **extra: str) -> dict[str, str]:
    """What `make verify` gets: the stand-in builder, the host network (the proxy is on loopback)."""
    env = {"GO_IMAGE": images["go"], "VERIFY_DOCKER_NETWORK": "host", "VERIFY": "strict", **extra}
    for name in ("NETRC_FILE", "GOPROXY", "GOPRIVATE", "GONOSUMDB", "GOFLAGS"):
        env.setdefault(name, "")
    return env


def make(project: Path, target: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`make TARGET` as the team runs it; the result, whatever its exit status."""
    return subprocess.run(["make", "--no-print-directory", target, *args], cwd=project, capture_output=True, text=True,
                          timeout=VERIFY_TIMEOUT, env={**os.environ, "DOCKER_BUILDKIT": "1", **env})


def assert_verified(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0 and ": verified" in proc.stdout, proc.stdout + proc.stderr


def failed_line(proc: subprocess.CompletedProcess[str], step: str) -> str:
    """The one line verify printed for a failed step."""
    assert proc.returncode != 0, proc.stdout
    lines = [line for line in proc.stdout.splitlines() if line.startswith(f"verify: [FAIL] {step} ")]
    assert lines, proc.stdout
    return lines[0]


def go_in_builder(docker: str, image: str, project: Path, argv: list[str], env: dict[str, str],
                  netrc: Path | None = None) -> None:
    """A go command on the project, in the builder image (the machine's Go may be older than go.mod's)."""
    cmd = [docker, "run", "--rm", "--network", "host", "-v", f"{project}:/src", "-w", "/src",
           "-e", "GOTOOLCHAIN=local", "-e", "GOFLAGS=-mod=mod"]
    for name, value in env.items():
        cmd += ["-e", f"{name}={value}"]
    if netrc is not None:
        cmd += ["-v", f"{netrc}:/run/netrc:ro", "-e", "NETRC=/run/netrc"]
    run([*cmd, image, *argv], cwd=project, timeout=600)


def private_module(proxy: ModuleProxy, gofmt_clean: bool = True) -> str:
    """A fresh private module on the proxy: a fresh path, so no module cache already holds it."""
    name = f"greet{secrets.token_hex(4)}"
    path = f"example.private/{name}"
    func = "func Hello()" if gofmt_clean else "func  Hello()"
    code = f"// Package {name} greets.\npackage {name}\n\n// Hello greets.\n{func} string {{ return \"hello\" }}\n"
    proxy.add(path, "v0.1.0", {"go.mod": f"module {path}\n\ngo 1.22\n", f"{name}.go": code})
    return path


def use_module(project: Path, module: str, package: str, use: str) -> None:
    """A file of package main that uses the module, so the build really compiles it."""
    (project / "uses_module.go").write_text(f'package main\n\nimport "{module}"\n\nvar _ = {package}.{use}\n')


def require_private(docker: str, images: dict[str, str], project: Path, proxy: ModuleProxy, module: str,
                    tmp_path: Path, *after: list[str]) -> Path:
    """go.mod and go.sum require `module` from the proxy, resolved with its credentials; the netrc file."""
    netrc = tmp_path / "netrc"
    netrc.write_text(proxy.netrc)
    netrc.chmod(0o600)
    use_module(project, module, module.rsplit("/", 1)[1], "Hello")
    env = {"GOPROXY": proxy.url, "GONOSUMDB": "example.private"}
    for argv in (["go", "mod", "tidy"], *after):
        go_in_builder(docker, images["go"], project, argv, env, netrc)
    return netrc


# -- a private module, its credentials as a BuildKit secret ------------------------


@pytest.fixture
def proxy_images(docker: str, standin_images: dict[str, str], module_proxy: ModuleProxy,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The stand-ins, with a builder that trusts the proxy's certificate (as a company's
    builder image trusts its own CA)."""
    context = tmp_path_factory.mktemp("builder")
    (context / "proxy.pem").write_text(module_proxy.ca_pem)
    (context / "Dockerfile").write_text(
        f"FROM {standin_images['go']}\nCOPY proxy.pem /tmp/proxy.pem\n"
        "RUN cat /tmp/proxy.pem >> /etc/ssl/certs/ca-certificates.crt && rm /tmp/proxy.pem\n"
    )
    tag = f"deps-builder-{secrets.token_hex(4)}:trusting"
    docker_build(docker, context, {}, "-t", tag)
    yield {**standin_images, "go": tag}
    subprocess.run([docker, "image", "rm", "-f", tag], capture_output=True, check=False)


@pytest.mark.docker
def test_a_private_module_builds_and_verifies_with_the_secret(
    docker: str, proxy_images: dict[str, str], module_proxy: ModuleProxy, tmp_path: Path
) -> None:
    project = service(tmp_path, docker, proxy_images, project_name="Deps private")
    module = private_module(module_proxy)
    netrc = require_private(docker, proxy_images, project, module_proxy, module, tmp_path)
    inputs = {"GOPROXY": module_proxy.url, "GONOSUMDB": "example.private"}

    # Without the secret: the proxy refuses, and verify's one line for the build names the fix.
    module_proxy.requests.clear()
    without = make(project, "verify", verify_env(proxy_images, **inputs))
    assert "a private module needs credentials: set NETRC_FILE" in failed_line(without, "docker build")
    assert not any(ok for path, ok in module_proxy.requests), "nothing was authorized without the secret"

    with_secret = make(project, "verify", verify_env(proxy_images, NETRC_FILE=str(netrc), **inputs))
    assert_verified(with_secret)
    assert any(ok and path.endswith(".zip") for path, ok in module_proxy.requests), module_proxy.requests

    # A source-only change: the modules come from the cache mount, the proxy hears nothing,
    # and the build needs no credentials (`make docker-build` takes the same inputs).
    module_proxy.requests.clear()
    (project / "main.go").write_text((project / "main.go").read_text() + "\n// A source-only change.\n")
    tag = f"deps-private-{secrets.token_hex(4)}"
    try:
        rebuild = make(project, "docker-build", verify_env(proxy_images, **inputs), f"IMAGE={tag}", "VERSION=warm")
        assert rebuild.returncode == 0, rebuild.stdout + rebuild.stderr
        assert module_proxy.requests == []
    finally:
        subprocess.run([docker, "image", "rm", "-f", f"{tag}:warm"], capture_output=True, check=False)


def places_holding(docker: str, tag: str, needle: bytes, dest: Path) -> list[str]:
    """Where `needle` is in an image: each file of each layer (`docker save`, every layer
    untarred), its config and manifest, and `docker history`."""
    archive = dest / f"{tag.replace(':', '_')}.tar"
    with archive.open("wb") as out:
        subprocess.run([docker, "save", tag], stdout=out, check=True, timeout=600)
    found = []
    with tarfile.open(archive) as saved:
        for member in saved.getmembers():
            if not member.isfile():
                continue
            data = saved.extractfile(member).read()  # type: ignore[union-attr]
            if needle in data:
                found.append(f"save:{member.name}")
            try:
                layer = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
            except tarfile.TarError:
                continue  # not a layer (the config, the manifest)
            with layer:
                for entry in layer.getmembers():
                    if entry.isfile() and needle in layer.extractfile(entry).read():  # type: ignore[union-attr]
                        found.append(f"layer {member.name}: {entry.name}")
    history = run([docker, "history", "--no-trunc", "--format", "{{.CreatedBy}}", tag], cwd=dest).stdout
    if needle.decode() in history:
        found.append("docker history")
    inspect = run([docker, "image", "inspect", tag], cwd=dest).stdout
    if needle.decode() in inspect:
        found.append("docker image inspect")
    return found


@pytest.mark.docker
@pytest.mark.parametrize("how", ["secret", "build-arg"], ids=["secret", "control-token-as-build-arg"])
def test_the_credentials_reach_no_layer_config_or_history(
    docker: str, proxy_images: dict[str, str], module_proxy: ModuleProxy, tmp_path: Path, how: str
) -> None:
    """The final image and the build stage (the layers the build cache keeps for the
    image), read whole. Control: the same token in a build arg is found."""
    project = service(tmp_path, docker, proxy_images, project_name=f"Deps leak {how}")
    module = private_module(module_proxy)
    netrc = require_private(docker, proxy_images, project, module_proxy, module, tmp_path)
    token = module_proxy.netrc.split()[-1]
    if how == "secret":
        args, options = {"GOPROXY": module_proxy.url}, ["--secret", f"id=netrc,src={netrc}"]
    else:  # a common mistake: the credentials in the proxy URL, which Go accepts
        args, options = {"GOPROXY": f"https://ci:{token}@{module_proxy.host}"}, []
    args = {**args, "GONOSUMDB": "example.private", "GO_IMAGE": proxy_images["go"]}
    name = f"deps-leak-{secrets.token_hex(4)}"
    tags = [f"{name}:image", f"{name}:build"]
    try:
        docker_build(docker, project, args, *options, "-t", tags[0])
        docker_build(docker, project, args, *options, "--target", "build", "-t", tags[1])
        assert any(ok for _, ok in module_proxy.requests), "the build fetched the module with the token"
        found = [place for tag in tags for place in places_holding(docker, tag, token.encode(), tmp_path)]
        # The reading sees the layers' files: the build stage's go.sum names the module.
        assert any(place.endswith("src/go.sum") for place in places_holding(docker, tags[1], module.encode(), tmp_path))
    finally:
        subprocess.run([docker, "image", "rm", "-f", *tags], capture_output=True, check=False)
    if how == "secret":
        assert found == []
    else:
        assert "docker history" in found and found, found


# -- local, vendored and public modules -----------------------------------------------


@pytest.mark.docker
@pytest.mark.parametrize("admitted", [True, False], ids=["admitted", "control-not-in-the-context"])
def test_a_local_replace_module_verifies(
    docker: str, standin_images: dict[str, str], tmp_path: Path, admitted: bool
) -> None:
    project = service(tmp_path, docker, standin_images, project_name=f"Deps local {admitted}".lower())
    lib = project / "libs" / "hello"
    lib.mkdir(parents=True)
    (lib / "go.mod").write_text("module example.com/hello\n\ngo 1.22\n")
    (lib / "hello.go").write_text('// Package hello says hello.\npackage hello\n\n// Hello says hello.\nfunc Hello() string { return "hi" }\n')
    with (project / "go.mod").open("a") as go_mod:
        go_mod.write("\nrequire example.com/hello v0.0.0\n\nreplace example.com/hello => ./libs/hello\n")
    use_module(project, "example.com/hello", "hello", "Hello")
    if not admitted:  # the build cannot see the folder: one line names the .dockerignore fix
        line = failed_line(make(project, "verify", verify_env(standin_images, GOPROXY="off")), "docker build")
        assert "dependencies: a replace points at libs/hello, which is not in the build context: " \
               "add !libs/hello/ to .dockerignore" in line, line
        return
    # As the .dockerignore's comment says: a line for the folder, among the admitted ones.
    ignore = project / ".dockerignore"
    ignore.write_text(ignore.read_text().replace("!vendor/\n", "!vendor/\n!libs/\n", 1))
    assert_verified(make(project, "verify", verify_env(standin_images, GOPROXY="off")))


@pytest.mark.docker
def test_a_vendored_service_verifies_without_fetching(
    docker: str, proxy_images: dict[str, str], module_proxy: ModuleProxy, tmp_path: Path
) -> None:
    """vendor/ is used as it is: GOPROXY=off, no credentials. Its code need not be
    gofmt-clean: it is another module's, as written."""
    project = service(tmp_path, docker, proxy_images, project_name="Deps vendored")
    module = private_module(module_proxy, gofmt_clean=False)
    require_private(docker, proxy_images, project, module_proxy, module, tmp_path, ["go", "mod", "vendor"])
    assert (project / "vendor" / "modules.txt").is_file()
    module_proxy.requests.clear()
    assert_verified(make(project, "verify", verify_env(proxy_images, GOPROXY="off")))
    assert module_proxy.requests == []


@pytest.mark.docker
def test_a_public_module_through_the_go_module_proxy(docker: str, standin_images: dict[str, str], tmp_path: Path) -> None:
    project = service(tmp_path, docker, standin_images, project_name="Deps public")
    use_module(project, PUBLIC_MODULE, "uuid", "NewString")
    go_in_builder(docker, standin_images["go"], project, ["go", "get", f"{PUBLIC_MODULE}@{PUBLIC_VERSION}"], {})
    assert f"{PUBLIC_MODULE} {PUBLIC_VERSION}" in (project / "go.mod").read_text()
    assert_verified(make(project, "verify", verify_env(standin_images)))


# -- one Go version ---------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.parametrize("go_line", ["answered", "raised"], ids=["go-line-answered", "go-line-above-the-builder"])
def test_a_go_line_newer_than_the_builder_fails_with_the_fix(
    docker: str, standin_images: dict[str, str], tmp_path: Path, go_line: str
) -> None:
    project = service(tmp_path, docker, standin_images, project_name=f"Deps go {go_line}")
    if go_line == "raised":  # as a dependency's `go get` would raise it
        go_mod = project / "go.mod"
        go_mod.write_text(re.sub(r"(?m)^go .*$", "go 1.99", go_mod.read_text()))
    proc = make(project, "verify", verify_env(standin_images))
    if go_line == "answered":
        assert_verified(proc)
        return
    line = failed_line(proc, "docker build")
    assert "dependencies: go.mod says go 1.99, newer than this builder's go1." in line
    assert "copier update --data go_version=1.99" in line
    assert "copier update --data go_version=1.99" in failed_line(proc, "go checks")


def test_copier_update_moves_every_place_of_the_go_version(tmp_path: Path) -> None:
    """go.mod's go line, the answers file and ARG GO_IMAGE, in a service that has a dependency."""
    template = tmp_path / "template"
    shutil.copytree(ROOT, template, ignore=shutil.ignore_patterns(".git", ".venv", "build", "site", "tests", "benchmarks"))
    identity = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "template"]):
        run(argv, cwd=template, env=identity)
    project = tmp_path / "service"
    with local.env(VERIFY="off", **identity):
        copier.run_copy(str(template), str(project), data={"go_version": "1.27"}, vcs_ref="HEAD", defaults=True,
                        unsafe=True, quiet=True)
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "generated"]):
        run(argv, cwd=project, env=identity)
    go_mod = project / "go.mod"
    go_mod.write_text(go_mod.read_text() + f"\nrequire {PUBLIC_MODULE} {PUBLIC_VERSION}\n")  # where `go get` puts it
    run(["git", "commit", "-q", "-am", "a dependency"], cwd=project, env=identity)
    with local.env(VERIFY="off", **identity):
        copier.run_update(str(project), data={"go_version": "1.26"}, vcs_ref="HEAD", overwrite=True, unsafe=True,
                          defaults=True, quiet=True, conflict="inline")
    text = go_mod.read_text()
    assert "<<<<<<<" not in text and re.search(r"(?m)^go 1\.26$", text), text
    assert f"require {PUBLIC_MODULE} {PUBLIC_VERSION}" in text
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["go_version"] == "1.26"
    assert "ARG GO_IMAGE=golang:1.26-alpine" in (project / "Dockerfile").read_text()


# -- base images and modules are inputs of every image target ---------------------------


@pytest.mark.parametrize("target", ["docker-build", "docker-push", "docker-buildx"])
def test_every_image_target_takes_the_build_inputs(tmp_path: Path, target: str) -> None:
    """`make -n`: the commands make would run, with the same inputs `make verify` takes."""
    project = copier_generate(tmp_path / "service", {"app_kind": "cli", "runtime_base": "distroless"})
    netrc = tmp_path / "netrc"
    netrc.write_text("machine example.invalid login x password y\n")
    env = {"GO_IMAGE": "mirror.example/golang:1.27-alpine", "RUNTIME_IMAGE": "mirror.example/static:nonroot",
           "GOPROXY": "https://goproxy.example", "GOPRIVATE": "git.example.com", "GONOSUMDB": "git.example.com",
           "GOFLAGS": "-mod=mod", "NETRC_FILE": str(netrc), "VERIFY_DOCKER_NETWORK": "host"}
    proc = make(project, target, env, "-n")
    assert proc.returncode == 0, proc.stderr
    build = next(line for line in proc.stdout.splitlines() if " build " in line)
    for name in ("GO_IMAGE", "RUNTIME_IMAGE", "GOPROXY", "GOPRIVATE", "GONOSUMDB"):
        assert f"--build-arg '{name}={env[name]}'" in build
    assert "--build-arg 'GOFLAGS=-mod=mod'" in build  # added after the template's, in the Dockerfile
    assert f"--secret 'id=netrc,src={netrc}'" in build and "--network host" in build
    # Control: without them, nothing is passed and the Dockerfile's defaults hold.
    bare = make(project, target, {name: "" for name in env}, "-n")
    build = next(line for line in bare.stdout.splitlines() if " build " in line)
    assert "--build-arg 'GO" not in build and "--secret" not in build


@pytest.mark.docker
def test_docker_run_after_verify_builds_first(docker: str, standin_images: dict[str, str], tmp_path: Path) -> None:
    project = service(tmp_path, docker, standin_images, project_name="Deps run")
    env = verify_env(standin_images)
    assert_verified(make(project, "verify", env))
    tag = f"deps-run-{secrets.token_hex(4)}"
    try:
        proc = make(project, "docker-run", env, f"IMAGE={tag}", "VERSION=1.0.0", "ARGS=-version")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "deps-run 1.0.0" in proc.stdout
    finally:
        subprocess.run([docker, "image", "rm", "-f", f"{tag}:1.0.0"], capture_output=True, check=False)


def test_docs_dependencies_is_in_the_nav_and_linked() -> None:
    assert "dependencies.md" in (ROOT / "mkdocs.yml").read_text()
    assert "dependencies.md" in (ROOT / "docs" / "index.md").read_text()
    assert "docs (dependencies)" in (ROOT / "{{cookiecutter.project_slug}}" / "README.md").read_text()
