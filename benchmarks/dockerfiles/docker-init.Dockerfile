# Peer: what `docker init` writes for a Go project, rewritten here from the
# Dockerfile it generated in Docker's own repository docker/babashka-pod-docker
# (Dockerfile.init, commit d8c86b4c99cf8699f214bd1afd9332a56d713306):
# a Debian golang build stage with a module-cache mount only (no build-cache
# mount) and bind mounts instead of COPY; an alpine final stage that installs
# ca-certificates and tzdata with apk and runs as uid 10001.
# Changed for this benchmark (offline, no registry):
#   - Both FROMs are build args: GO_IMAGE (docker init: golang:${GO_VERSION}, Debian)
#     and RUNTIME_IMAGE (docker init: alpine:latest); the benchmark passes the
#     stand-ins standin/golang:1.27-alpine and standin/alpine:3.22.
#   - `apk add ca-certificates tzdata` needs the network: when apk is missing the
#     stand-in alpine already has the CA bundle, and tzdata is copied from the
#     builder's /usr/share/zoneinfo (Debian's zone files; Alpine's tzdata package
#     differs in size).
#   - The stand-in alpine has no `adduser`: the same user (uid 10001) is appended
#     to /etc/passwd and /etc/group instead.
#   - The go.sum bind mount needs a go.sum: the benchmark's context has an empty one
#     (the program has no dependencies).
#   - No `# syntax=` line: it would pull the frontend image from a registry.
ARG GO_VERSION=1.27
ARG GO_IMAGE=golang:${GO_VERSION}
ARG RUNTIME_IMAGE=alpine:latest
FROM ${GO_IMAGE} AS build
WORKDIR /src

# Dependencies in their own step, with the module cache as a cache mount and
# go.mod/go.sum bind-mounted rather than copied.
RUN --mount=type=cache,target=/go/pkg/mod/ \
    --mount=type=bind,source=go.sum,target=go.sum \
    --mount=type=bind,source=go.mod,target=go.mod \
    go mod download -x

# The build, with the module cache mounted and the source bind-mounted.
RUN --mount=type=cache,target=/go/pkg/mod/ \
    --mount=type=bind,target=. \
    CGO_ENABLED=0 go build -o /bin/server .

FROM ${RUNTIME_IMAGE} AS final

# Runtime packages: CA certificates and time zone data.
RUN --mount=type=cache,target=/var/cache/apk \
    --mount=type=bind,from=build,source=/usr/share/zoneinfo,target=/mnt/zoneinfo \
    if command -v apk >/dev/null; then \
      apk --update add ca-certificates tzdata && update-ca-certificates; \
    else \
      mkdir -p /usr/share && cp -r /mnt/zoneinfo /usr/share/zoneinfo; \
    fi

# An unprivileged user for the service.
ARG UID=10001
RUN if command -v adduser >/dev/null; then \
      adduser \
        --disabled-password \
        --gecos "" \
        --home "/nonexistent" \
        --shell "/sbin/nologin" \
        --no-create-home \
        --uid "${UID}" \
        appuser; \
    else \
      echo "appuser:x:${UID}:${UID}::/nonexistent:/sbin/nologin" >> /etc/passwd \
      && echo "appuser:x:${UID}:" >> /etc/group; \
    fi
USER appuser

COPY --from=build /bin/server /bin/

EXPOSE 3000
ENTRYPOINT [ "/bin/server" ]
