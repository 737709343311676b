# Seed: "Smallest Golang Docker Image", 2022 (/work/shared/seeds/002),
# Dockerfile.distroless. Category: distroless.
# Changed for this benchmark (offline, no registry):
#   - Both FROMs are build args: GO_IMAGE (article: golang:1.18-bullseye, Debian) and
#     RUNTIME_IMAGE (article: gcr.io/distroless/static-debian11); the benchmark passes
#     the stand-ins standin/golang:1.27-alpine and standin/distroless-static:nonroot.
#   - The stand-in builder has busybox but no Debian `adduser`: when adduser is
#     missing, the same user (uid 65532) is appended to /etc/passwd and /etc/group.
#   - `USER small-user:small-user` names a user that exists only in the build stage;
#     the distroless image's /etc/passwd does not have it, so the container cannot
#     start as published. The runtime stage uses the same uid numerically (65532).
#   - The program is the template's http main.go, not the article's println program.
ARG GO_IMAGE=golang:1.18-bullseye
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian11
FROM ${GO_IMAGE} as base

RUN if command -v adduser >/dev/null && adduser --help 2>&1 | grep -q -- --gecos; then \
      adduser \
        --disabled-password \
        --gecos "" \
        --home "/nonexistent" \
        --shell "/sbin/nologin" \
        --no-create-home \
        --uid 65532 \
        small-user; \
    else \
      echo 'small-user:x:65532:65532::/nonexistent:/sbin/nologin' >> /etc/passwd \
      && echo 'small-user:x:65532:' >> /etc/group; \
    fi

WORKDIR $GOPATH/src/smallest-golang/app/

COPY . .

RUN go mod download
RUN go mod verify

RUN CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -o /main .

FROM ${RUNTIME_IMAGE}

COPY --from=base /main .

USER 65532:65532

CMD ["./main"]
