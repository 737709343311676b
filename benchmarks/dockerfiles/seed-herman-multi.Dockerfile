# Seed: "Minimal Go Docker Container (122x smaller)", Lukas Herman, 2018
# (/work/shared/seeds/000), Dockerfile.multi. Category: multi-stage alpine
# (no cache mounts: the reference for the warm-rebuild target).
# Changed for this benchmark (offline, no registry):
#   - Both FROMs are build args: GO_IMAGE (article: golang:1.10.3-alpine) and
#     RUNTIME_IMAGE (article: alpine); the benchmark passes the stand-ins
#     standin/golang:1.27-alpine and standin/alpine:3.22.
#   - The program is the template's http main.go (module `app`, so the binary is ./app).
#   - As published, `go build` links against the builder's C library when cgo is on;
#     the stand-in builder has no C compiler, so Go builds it without cgo here.
ARG GO_IMAGE=golang:1.10.3-alpine
ARG RUNTIME_IMAGE=alpine
FROM ${GO_IMAGE} AS builder

WORKDIR /go/src/app
COPY . .
RUN go build

FROM ${RUNTIME_IMAGE}
EXPOSE 8080

COPY --from=builder /go/src/app/app .
ENTRYPOINT [ "./app" ]
