{% set c = cookiecutter %}
#!/usr/bin/env bash
# Verification of {{ c.project_name }}: the proof the template ran when it created
# this service, and the one to run after every change and every `copier update`.
# `make verify` runs it, and so does CI. The template owns this file.
#
# With a Docker engine everything runs in Docker (no Go needed on this machine):
#   docker build   the image
#   go checks      docker build --target checked, beside it: scripts/go-checks.sh (gofmt,
#                  go test), and every package here with tests was tested
#   lint           in the same build step: golangci-lint with .golangci.yml
#   image size     from the image config
#   non-root user  the image's USER is {{ c.run_as_uid }}:{{ c.run_as_uid }}, as answered (never root)
#   static binary  the image's binary asks for no dynamic loader (runs without libc)
{% if c.app_kind == "http" %}
#   smoke run      the image serves: its HEALTHCHECK command (the binary's own
#                  `-healthcheck` probe), run inside the running container, gets 200
#                  from /healthz (no shell or curl needed)
{% else %}
#   smoke run      the image runs: `-version` prints the name
{% endif %}
{% if uses_upx(c) %}
#   upx            the binary is UPX-packed and starts with a 400 kB environment
{% endif %}
# Without Docker: `make check lint build` on this machine (the same GOFLAGS and
# CGO_ENABLED=0 as the image) and a static-binary check; the image steps are skipped.
#
# Environment:
#   VERIFY=strict             a skipped step fails the run too (CI)
#   VERIFY=off                skip the verification (one line says so), as at creation
#   DOCKER                    the docker client (default: docker)
#   GO_IMAGE, RUNTIME_IMAGE   other base images (a mirror, an offline stand-in)
#   LINT_IMAGE                a prebuilt golangci-lint image instead of compiling it
#   GOPROXY, GOPRIVATE, GONOSUMDB  where modules come from (docs: dependencies)
#   USER_GOFLAGS              GOFLAGS added after the template's (default: GOFLAGS)
#   NETRC_FILE                a netrc file for private modules, a BuildKit secret
#   NETRC_CONTENT             or its text (a CI secret), kept in this run's temporary folder
#   DOCKER_BUILD_ARGS         more `docker build` flags
#   VERIFY_DOCKER_NETWORK=host  build on the host network (automatic when the engine has no bridge)
# Exit status: 0 passed (skips allowed unless strict), 1 a step failed or was
# skipped under strict, 130 interrupted. Every container and image it makes is
# named verify-{{ c.project_slug }}-... and removed at the end, also on Ctrl-C and SIGTERM.
set -u

# What this service is: the template's answers (`copier update --data` changes them).
SLUG={{ c.project_slug }}
RUN_AS_UID={{ c.run_as_uid }}
BINARY=/usr/local/bin/$SLUG

DOCKER=${DOCKER:-docker}
MODE=${VERIFY:-on}
case $MODE in
    on | strict) ;;
    off) echo "verify: skipped (VERIFY=off); run make verify without it to check the service"; exit 0 ;;
    *) echo "verify: VERIFY must be on, strict or off (got '$MODE')" >&2; exit 2 ;;
esac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/verify-$SLUG.XXXXXX") || exit 1
# Names no other run shares, even one with the same pid in another container on this engine.
RUN_ID=$SLUG-$$-$(printf '%s' "${WORK##*.}" | tr '[:upper:]' '[:lower:]')
IMAGE=verify-$RUN_ID:latest
CONTAINERS="" COUNT=0
CHILD="" CHECKS="" CHECKS_START="" LOST=""
MADE=no  # yes once this run may have made containers or images
OK=0 FAILED=0 SKIPPED=0
RESULT=""  # the steps as JSON members, for the result line

cd "$(dirname "$0")/.." || exit 1

# -- reporting ------------------------------------------------------------------

now() { if [ -n "${EPOCHREALTIME:-}" ]; then echo "${EPOCHREALTIME/,/.}"; else date +%s; fi; }

# report STATUS NAME START DETAIL: one line per step, and its count.
report() {
    local seconds label=$1
    seconds=$(awk -v a="$3" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    [ "$label" = ok ] && label=" ok "
    printf 'verify: [%s] %-14s %6ss  %s\n' "$label" "$2" "$seconds" "${4%%$'\n'*}"
    case $4 in *$'\n'*) printf '%s\n' "${4#*$'\n'}" | sed 's/^/verify:        /' ;; esac
    case $1 in ok) OK=$((OK + 1)) ;; FAIL) FAILED=$((FAILED + 1)) ;; skip) SKIPPED=$((SKIPPED + 1)) ;; esac
    RESULT+="${RESULT:+,}\"$2\":{\"status\":\"$1\",\"seconds\":$seconds}"
}

# step NAME COMMAND...: run one check in this shell (it may remember containers to
# remove); it prints its detail and returns 0 (ok) or anything else (failed).
step() {
    local name=$1 start status
    shift
    start=$(now)
    "$@" >"$WORK/detail" 2>&1
    status=$?
    if [ "$status" -eq 0 ]; then report ok "$name" "$start" "$(cat "$WORK/detail")"
    else report FAIL "$name" "$start" "$(cat "$WORK/detail")"; fi
    return "$status"
}

skip_all() { # skip_all REASON NAME...
    local reason=$1 name
    shift
    for name in "$@"; do report skip "$name" "$(now)" "$reason"; done
}

# The container runtime (runc) now and then loses a process that ends as soon as it
# starts, and fails with this message whatever the process did (its exec fifo race).
# Not the project's fault: a build, or a container start, that failed with it runs
# once more, and says so.
RUNTIME_LOST="container process is already dead"
lost_by_runtime() { grep -qsF "$RUNTIME_LOST" "$@"; }

# run_quiet [--again-if-lost] CMD...: run CMD in the background (so Ctrl-C and SIGTERM
# are handled at once), its output kept in $WORK/out; on failure print the command and
# its last lines. --again-if-lost: run it once more if the runtime lost its process.
run_quiet() {
    local status again=no
    [ "$1" = --again-if-lost ] && { again=yes; shift; }
    while :; do
        "$@" >"$WORK/out" 2>&1 </dev/null &
        CHILD=$!
        wait "$CHILD"
        status=$?
        CHILD=""
        if [ "$status" -eq 0 ] || [ "$again" = no ] || ! lost_by_runtime "$WORK/out"; then break; fi
        again=no
    done
    if [ "$status" -ne 0 ]; then
        echo "\`$*\` exited $status"
        tail -n 15 "$WORK/out"
    fi
    return "$status"
}

# remove_made: remove the containers and the image this run made, in the background
# (the tests may still be running); cleanup waits for it.
remove_made() {
    [ "$MADE" = yes ] || return 0
    MADE=removed
    # shellcheck disable=SC2086 # the names are ours, without spaces
    { [ -n "$CONTAINERS" ] && "$DOCKER" rm -f $CONTAINERS; "$DOCKER" image rm -f "$IMAGE"; } >/dev/null 2>&1 &
}

stop_children() {
    local pid
    for pid in $CHILD $CHECKS; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    CHILD="" CHECKS=""
}

cleanup() {  # on every exit
    stop_children
    remove_made
    wait
    rm -rf "$WORK"
}

interrupted() {
    trap '' INT TERM HUP
    cleanup
    echo "verify: interrupted; the containers and images it made are removed, the project is kept" >&3
    exit 130
}
trap interrupted INT TERM HUP
trap cleanup EXIT
exec 3>&1  # the run's own output: a step's is captured, and an interruption may come mid-step

# -- the checks -----------------------------------------------------------------

# elf_is_static FILE: true when the ELF file has no PT_INTERP program header, that
# is, it asks for no dynamic loader.
elf_is_static() {
    od -An -v -t u1 -N 4096 "$1" | awk '
        { for (i = 1; i <= NF; i++) b[n++] = $i }
        function u(off, len,   v, i) {  # an unsigned field in the file byte order
            v = 0
            for (i = len - 1; i >= 0; i--) v = v * 256 + b[off + (le ? i : len - 1 - i)]
            return v
        }
        END {
            if (b[0] != 127 || b[1] != 69 || b[2] != 76 || b[3] != 70) { print "not an ELF binary"; exit 2 }
            le = b[5] == 1
            if (b[4] == 2) { phoff = u(32, 8); size = u(54, 2); count = u(56, 2) }
            else { phoff = u(28, 4); size = u(42, 2); count = u(44, 2) }
            if (phoff + count * size > n) { print "its program headers lie beyond the first " n " bytes"; exit 2 }
            for (i = 0; i < count; i++) if (u(phoff + i * size, 4) == 3) { print "it asks for a dynamic loader (PT_INTERP): not static"; exit 1 }
        }'
}

check_static() { # check_static FILE
    elf_is_static "$1" || return 1
    echo "$(wc -c <"$1" | tr -d ' ') bytes, no dynamic loader"
}

# The host's own tools, when there is no Docker: the Makefile's targets.
host_target() { run_quiet make --no-print-directory "$1"; }
host_build() {
    host_target build || return 1
    if [ "$(uname -s)" = Linux ]; then check_static "bin/$SLUG"
    else echo "CGO_ENABLED=0 (a $(uname -s) binary here: the image's is read with Docker)"; fi
}

docker_engine() {
    command -v "$DOCKER" >/dev/null 2>&1 || { echo "no \`$DOCKER\` client on PATH"; return 1; }
    "$DOCKER" info >/dev/null 2>&1 || { echo "the Docker engine does not answer (\`$DOCKER info\` failed)"; return 1; }
}

build_args() {
    BUILD=(build --progress=plain --build-arg "VERSION=${VERSION:-verify}" --build-arg "COMMIT=${COMMIT:-verify}")
    [ -n "${GO_IMAGE:-}" ] && BUILD+=(--build-arg "GO_IMAGE=$GO_IMAGE")
    [ -n "${RUNTIME_IMAGE:-}" ] && BUILD+=(--build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE")
    [ -n "${LINT_IMAGE:-}" ] && BUILD+=(--build-arg "LINT_IMAGE=$LINT_IMAGE")
    local name goflags=${USER_GOFLAGS-${GOFLAGS:-}}
    for name in GOPROXY GOPRIVATE GONOSUMDB LINT_GOPROXY; do
        [ -n "${!name:-}" ] && BUILD+=(--build-arg "$name=${!name}")
    done
    [ -n "$goflags" ] && BUILD+=(--build-arg "GOFLAGS=$goflags")
    # The credentials as a secret: mounted for the go steps only, never in a layer or the history.
    if [ -z "${NETRC_FILE:-}" ] && [ -n "${NETRC_CONTENT:-}" ]; then
        (umask 077 && printf '%s\n' "$NETRC_CONTENT" >"$WORK/netrc") && NETRC_FILE=$WORK/netrc
    fi
    if [ -n "${NETRC_FILE:-}" ]; then
        if [ -f "$NETRC_FILE" ]; then BUILD+=(--secret "id=netrc,src=$NETRC_FILE")
        else echo "verify: NETRC_FILE=$NETRC_FILE is not a file: building without module credentials"; fi
    fi
    # Without a bridge network (dockerd --bridge=none) BuildKit's RUN steps need the host's.
    if [ "${VERIFY_DOCKER_NETWORK:-}" = host ] ||
        { [ -z "${VERIFY_DOCKER_NETWORK:-}" ] && ! "$DOCKER" network inspect bridge >/dev/null 2>&1; }; then
        BUILD+=(--network host)
    fi
    set -f  # extra flags, split on spaces as make passes them, never globbed
    # shellcheck disable=SC2206
    BUILD+=(${DOCKER_BUILD_ARGS:-})
    set +f
}

# docker_build OUT ARGS...: start a BuildKit build in the background, its output in
# OUT; its pid in BUILD_PID (killed on Ctrl-C or SIGTERM).
docker_build() {
    local out=$1
    shift
    DOCKER_BUILDKIT=1 "$DOCKER" "${BUILD[@]}" "$@" >"$out" 2>&1 </dev/null &
    BUILD_PID=$!
}

# A line of a RUN step's own output in BuildKit's plain progress.
STEP_LINE='^#[0-9]+ [0-9]+\.[0-9]+ '

# short_image NAME: NAME as a build arg may spell it: without the docker.io/library/ and
# the :latest that BuildKit's log adds (a tag or digest written out is kept).
short_image() {
    local name=${1#docker.io/}
    name=${name#library/}
    case ${name##*/} in *[:@]*) ;; *) name=$name:latest ;; esac
    echo "${name%:latest}"
}

# build_failure OUT [OTHER...]: the failing step's own lines, or one line naming the fix
# when a base image cannot be pulled or the client cannot use BuildKit. The two
# builds share their first steps, and BuildKit prints a shared step's output in only
# one of them: the lines come from OUT, else from the first OTHER that has them. A
# modules step's `dependencies:` line, which names the fix, comes first.
build_failure() {
    local step=$STEP_LINE out=$1 other pull
    # A base image that cannot be pulled: BuildKit's "load metadata for IMAGE" failed, in
    # whichever build resolved it first (the others print it as CANCELED).
    pull=$(awk 'FNR == 1 { delete image }
        /^#[0-9]+ \[internal\] load metadata for / { image[$1] = $NF }
        /^#[0-9]+ ERROR: / && ($1 in image) && !said { n = split($0, part, ": "); print image[$1] " (" part[n] ")"; said = 1 }' "$@")
    if [ -n "$pull" ] && [ -n "${LINT_IMAGE:-}" ] && [ "$(short_image "${pull%% (*}")" = "$(short_image "$LINT_IMAGE")" ]; then
        echo "the linter image $pull could not be pulled: set LINT_IMAGE to a mirror's or a local image," \
            "or unset it to compile the linter here (docs/offline.md)"
        return
    elif [ -n "$pull" ]; then
        echo "the base image $pull could not be pulled: set GO_IMAGE or RUNTIME_IMAGE to a mirror's" \
            "or a local image (docs/offline.md)"
        return
    elif grep -qs "buildx component is missing" "$@"; then
        echo "BuildKit is enabled but the buildx component is missing: install the buildx plugin" \
            "(docker-buildx-plugin), or set DOCKER to a client that has one"
        return
    elif lost_by_runtime "$out"; then  # this build's own last try (the other's may be older)
        echo "the container runtime lost a build step's process twice (runc: $RUNTIME_LOST):" \
            "restart the Docker engine, then run make verify again"
        return
    fi
    if ! grep -Eq "$step" "$out"; then
        for other in "${@:2}"; do grep -Eqs "$step" "$other" && { out=$other; break; }; done
    fi
    if grep -Eq "$step" "$out"; then
        grep -E "${step}dependencies: " "$out" | sed -E 's/^#[0-9]+ [0-9.]+ //' | tail -n 1
        grep -E "$step" "$out" | grep -Ev "${step}dependencies: " | sed -E 's/^#[0-9]+ [0-9.]+ //' | tail -n 15
    else
        tail -n 15 "$out"
    fi
}

# settle PID...: until these builds have ended, without reaping them (their steps wait
# for them later).
settle() {
    local pid
    for pid in "$@"; do while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done
}

image_build() {
    local try
    for try in first again; do
        docker_build "$WORK/build.out" -t "$IMAGE" .
        CHILD=$BUILD_PID
        if wait "$CHILD"; then
            CHILD=""
            echo "$IMAGE${LOST:+ ($LOST)}"
            return 0
        fi
        CHILD=""
        # A shared step failed in a build beside this one, which may not have printed its
        # lines yet: they end at once too (the step failed), so wait for them.
        grep -Eq "$STEP_LINE" "$WORK/build.out" || settle "$CHECKS"
        if [ "$try" = again ] || ! lost_by_runtime "$WORK/build.out" "$WORK/checks.out"; then break; fi
        LOST="built again: the container runtime lost a step's process"
    done
    build_failure "$WORK/build.out" "$WORK/checks.out"
    return 1
}

# The checks run beside the image build: BuildKit builds the stages they share
# once, and the image steps below run while the checks do. Their one output is the
# checks stage's files (each check's output and exit status, the packages tested),
# written here: no image. ARGS: more `docker build` flags.
start_checks() {
    CHECKS_START=${CHECKS_START:-$(now)}
    docker_build "$WORK/checks.out" --target checked --output "type=local,dest=$WORK/checked" "$@" .
    CHECKS=$BUILD_PID
}

wait_checks() {
    wait "$CHECKS"
    CHECKS_STATUS=$?
    CHECKS=""
}

# cached_failure: the go checks failed, in a result BuildKit kept from an earlier run
# on the same files. (A lint failure is the same on every run: it is not run again.)
cached_failure() {
    grep -qsvx 0 "$WORK/checked/go-checks.status" &&
        awk '/^#[0-9]+ \[checks [0-9]+\/[0-9]+\] RUN / { step = $1 }
            $1 == step && $2 == "CACHED" { cached = 1 } END { exit !cached }' "$WORK/checks.out"
}

# check_result NAME: whether the check NAME (go-checks, lint) passed in the checks
# stage; its last lines for a failure, without go test's lines for packages that
# passed, in DETAIL.
check_result() {
    local status
    status=$(cat "$WORK/checked/$1.status" 2>/dev/null)
    DETAIL=$(grep -v '^ok  ' "$WORK/checked/$1.log" 2>/dev/null | tail -n 15)
    if [ -z "$status" ]; then DETAIL="the checks stage wrote no result for $1 (scripts/go-checks.sh --lint)"
    elif [ -z "$DETAIL" ]; then DETAIL="exited $status, with no output"; fi
    [ "$status" = 0 ]
}

# test_packages: the import paths of this repository's packages that have tests, as
# `go test ./...` finds them (no testdata, vendor, _ or . folders, no nested modules),
# from git's files in a git repository (tracked, and new files not ignored), else the
# file tree. No Go needed.
test_packages() {
    local module
    module=$(awk '$1 == "module" { gsub(/"/, "", $2); print $2; exit }' go.mod)
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -co --exclude-standard -- '*_test.go' '*go.mod'
    else
        find . -name .git -prune -o -type f \( -name '*_test.go' -o -name go.mod \) -print
    fi | awk -v module="$module" '
        { sub(/^\.\//, ""); dir = $0; if (!sub(/\/[^\/]*$/, "", dir)) dir = "" }
        /(^|\/)go\.mod$/ { if (dir != "") nested[dir]; next }
        /_test\.go$/ && ("/" dir "/") !~ /\/(testdata|vendor|[._][^\/]*)\// { tests[dir] }
        END {
            for (dir in tests) {
                for (root in nested) if (index(dir "/", root "/") == 1) { dir = ""; break }
                if (dir != "") print module "/" dir
            }
            if ("" in tests) print module
        }' | LC_ALL=C sort -u
}

finish_checks() {
    local untested DETAIL again=""
    wait_checks
    # The runtime lost a step's process here, or in a step this build shared with the
    # image's (LOST): once more.
    if [ "$CHECKS_STATUS" -ne 0 ] && { [ -n "$LOST" ] || lost_by_runtime "$WORK/checks.out"; }; then
        again=" (run again: the container runtime lost a step's process)"
        start_checks
        wait_checks
    fi
    if [ "$CHECKS_STATUS" -eq 0 ] && cached_failure; then
        # Go runs a failed test again rather than keep its result: so do the checks here
        # (the seconds reported count both builds).
        start_checks --build-arg "RECHECK=$RUN_ID"
        wait_checks
    fi
    if [ "$CHECKS_STATUS" -ne 0 ]; then
        DETAIL=$(build_failure "$WORK/checks.out" "$WORK/build.out")
        report FAIL "go checks" "$CHECKS_START" "$DETAIL"
        report FAIL "lint" "$CHECKS_START" "$DETAIL"
        return
    fi
    if ! check_result go-checks; then
        report FAIL "go checks" "$CHECKS_START" "$DETAIL"
    else
        # Proof the tests ran: every package here with tests was tested in the build context.
        untested=$(LC_ALL=C sort -u "$WORK/checked/tested-packages" | LC_ALL=C comm -23 <(test_packages) -)
        if [ -n "$untested" ]; then
            report FAIL "go checks" "$CHECKS_START" "$(printf '%s\n' "the checks stage did not test these packages, which have _test.go files here: the build context lacks their tests (a .dockerignore line such as \`**/*_test.go\`?)" "$untested")"
        else
            report ok "go checks" "$CHECKS_START" "gofmt, go test: $(grep -c . "$WORK/checked/tested-packages") packages with tests, all tested (scripts/go-checks.sh, the Dockerfile's checks stage)$again"
        fi
    fi
    if check_result lint; then report ok "lint" "$CHECKS_START" "golangci-lint with .golangci.yml: no issues (the Dockerfile's checks stage)"
    else report FAIL "lint" "$CHECKS_START" "$DETAIL"; fi
}

inspect() { "$DOCKER" image inspect --format "$1" "$IMAGE"; }

image_size() {
    local bytes
    bytes=$(inspect '{% raw %}{{.Size}}{% endraw %}') || return 1
    awk -v b="$bytes" 'BEGIN { printf "%.2f MB\n", b / 1e6 }'
}

non_root_user() {
    local user
    user=$(inspect '{% raw %}{{.Config.User}}{% endraw %}') || return 1
    if [ "$user" != "$RUN_AS_UID:$RUN_AS_UID" ]; then
        echo "the image runs as ${user:-root (no USER)}; want $RUN_AS_UID:$RUN_AS_UID (run_as_uid;" \
            "change it with \`copier update --data run_as_uid=N\`, never 0)"
        return 1
    fi
    echo "USER $user"
}

# new_container: a fresh name, remembered before the container exists so cleanup finds it.
new_container() {
    COUNT=$((COUNT + 1))
    NAME=verify-$RUN_ID-$COUNT
    CONTAINERS="$CONTAINERS $NAME"
}

# The container the smoke run starts, created here (no network but loopback) so its
# binary can be copied out first.
image_binary() {
    new_container
    SMOKE=$NAME
    run_quiet "$DOCKER" create --name "$SMOKE" --network none "$IMAGE"{% if c.app_kind == "cli" %} -version{% endif %} || return 1
    run_quiet "$DOCKER" cp "$SMOKE:$BINARY" "$WORK/binary" || return 1
    check_static "$WORK/binary"
}

{% if c.app_kind == "http" %}
# The image's own HEALTHCHECK command (or, without one, the binary's -healthcheck
# probe), run inside the running container: it asks /healthz on loopback. No shell
# or curl in the image, and no port needs to be free on this machine.
probe_command() {
    local kind="" arg
    PROBE=()
    while IFS= read -r arg; do
        [ -n "$arg" ] || continue
        if [ -z "$kind" ]; then kind=$arg; else PROBE+=("$arg"); fi
    done < <(inspect '{% raw %}{{with .Config.Healthcheck}}{{range .Test}}{{println .}}{{end}}{{end}}{% endraw %}')
    case $kind in
        CMD) PROBE=("$DOCKER" exec "$SMOKE" "${PROBE[@]}") ;;
        CMD-SHELL) PROBE=("$DOCKER" exec "$SMOKE" /bin/sh -c "${PROBE[*]}") ;;
        *) PROBE=("$DOCKER" exec "$SMOKE" "$BINARY" -healthcheck) NO_HEALTHCHECK=1 ;;
    esac
    SHOWN="\`${PROBE[*]:3}\` inside the container"
}

# For a main.go older than the -healthcheck probe, in an image without HEALTHCHECK:
# wget from the Go builder image, in the service's network namespace.
probe_from_beside() {
    local base port
    base=${GO_IMAGE:-$(sed -n 's/^ARG GO_IMAGE=//p' Dockerfile | head -n 1)}
    port=$(inspect '{% raw %}{{range .Config.Env}}{{println .}}{{end}}{% endraw %}' | sed -n 's/^PORT=//p')
    PROBE=("$DOCKER" run --rm --network "container:$SMOKE" --entrypoint wget "$base" -q -O /dev/null
        "http://127.0.0.1:${port:-{{ c.http_port }}}/healthz")
    SHOWN="wget /healthz from $base beside the container (main.go has no -healthcheck probe)"
}

smoke_run() {
    local probe deadline=$((SECONDS + 30)) NO_HEALTHCHECK="" SHOWN=""
    probe_command || return 1
    run_quiet --again-if-lost "$DOCKER" start "$SMOKE" || return 1
    while [ "$SECONDS" -lt "$deadline" ]; do
        probe=$("${PROBE[@]}" 2>&1) && {
            echo "$SHOWN passed"
            return 0
        }
        case $probe in *"flag provided but not defined"*|*"executable file not found"*|*"no such file"*)
            if [ -n "$NO_HEALTHCHECK" ]; then
                NO_HEALTHCHECK=""
                probe_from_beside
                continue
            fi
            echo "$SHOWN cannot run in the image: $probe"
            return 1 ;;
        esac
        if [ "$("$DOCKER" inspect --format '{% raw %}{{.State.Running}}{% endraw %}' "$SMOKE" 2>&1)" != true ]; then
            echo "the container stopped; its log:"
            "$DOCKER" logs "$SMOKE" 2>&1 | tail -n 10
            return 1
        fi
        sleep 0.1
    done
    echo "$SHOWN did not pass within 30 s: $probe"
    "$DOCKER" logs "$SMOKE" 2>&1 | tail -n 10
    return 1
}
{% else %}
smoke_run() {
    local output
    run_quiet --again-if-lost "$DOCKER" start --attach "$SMOKE" || return 1
    output=$(cat "$WORK/out")
    case $output in "$SLUG "*) echo "$output" ;; *) echo "-version printed: $output"; return 1 ;; esac
}
{% endif %}
{% if uses_upx(c) %}

# upx/upx#18902: packed Go binaries crashed when the environment and arguments
# outgrew the stack the stub set aside. 200 variables of 2 kB each.
upx_packed() {
    local i
    head -c 4096 "$WORK/binary" | grep -aq 'UPX!' || { echo "the image's binary is not UPX-packed"; return 1; }
    for i in $(seq 1 200); do printf 'VERIFY_FILLER_%s=%02000d\n' "$i" 0; done >"$WORK/big.env"
    new_container
    run_quiet "$DOCKER" run --rm --name "$NAME" --network none --env-file "$WORK/big.env" "$IMAGE" -version || return 1
    grep -q "^$SLUG " "$WORK/out" || { echo "the packed binary printed: $(cat "$WORK/out")"; return 1; }
    echo "packed; ran with a 400 kB environment"
}
{% endif %}

# -- the run --------------------------------------------------------------------

IMAGE_STEPS=("docker build" "image size" "non-root user" "static binary" "smoke run"{% if uses_upx(c) %} "upx"{% endif %})

echo "verify: checking $SLUG in $(pwd) (VERIFY=$MODE)"
if reason=$(docker_engine); then
    build_args
    MADE=yes
    start_checks
    if step "docker build" image_build; then
        step "image size" image_size
        step "non-root user" non_root_user
        if step "static binary" image_binary; then
            step "smoke run" smoke_run
{% if uses_upx(c) %}
            step "upx" upx_packed
{% endif %}
        else
            skip_all "the binary could not be read from the image" "${IMAGE_STEPS[@]:4}"
        fi
    else
        skip_all "the image did not build" "${IMAGE_STEPS[@]:1}"
    fi
    remove_made
    finish_checks
else
    if command -v go >/dev/null 2>&1 && command -v make >/dev/null 2>&1; then
        step "go checks" host_target check
        step "lint" host_target lint
        step "static build" host_build
    else
        skip_all "needs Go and make on PATH, or Docker: install Go from https://go.dev/dl/" "go checks" "lint" "static build"
    fi
    skip_all "$reason: install Docker (https://docs.docker.com/engine/install/) and start its engine" "${IMAGE_STEPS[@]}"
fi

COUNTS="$OK ok, $FAILED failed, $SKIPPED skipped"
if [ "$FAILED" -gt 0 ] || { [ "$MODE" = strict ] && [ "$SKIPPED" -gt 0 ]; }; then
    STATUS=1 CLOSING="$COUNTS: NOT verified (VERIFY=$MODE)"
elif [ "$OK" -eq 0 ]; then
    STATUS=1 CLOSING="$COUNTS: NOT verified: nothing could be checked here (above: what to install)"
elif [ "$SKIPPED" -gt 0 ]; then
    STATUS=0 CLOSING="$COUNTS: verified, except the skipped steps (VERIFY=strict fails on them)"
else
    STATUS=0 CLOSING="$COUNTS: verified"
fi
echo "verify: $CLOSING"
# The same result as one JSON line, for tools (the benchmark reads it).
printf 'verify-result: {"exit":%d,"mode":"%s","ok":%d,"failed":%d,"skipped":%d,"steps":{ %s }}\n' \
    "$STATUS" "$MODE" "$OK" "$FAILED" "$SKIPPED" "$RESULT"
# The exit status: the last command's (a closing `exit` here trips shellcheck 0.11 into SC2329).
[ "$STATUS" -eq 0 ]
