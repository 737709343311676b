# Seed: "Building Minimal Docker Images for Go Applications", 2020
# (/work/shared/seeds/003). Category: scratch + `-s -w` + upx.
# Changed for this benchmark (offline, no registry):
#   - The builder FROM is a build arg, GO_IMAGE (article: rhaps1071/golang-1.14-alpine-git,
#     golang:1.14-alpine with git); the benchmark passes the stand-in
#     standin/golang:1.27-alpine. The runtime stage is scratch, as published.
#   - `apk add upx` needs the network: it is skipped when the builder already has
#     upx (the stand-in does). upx runs at its default level, as published.
#   - The program is the template's http main.go.
ARG GO_IMAGE=rhaps1071/golang-1.14-alpine-git
FROM ${GO_IMAGE} AS build
WORKDIR /build
COPY . .
RUN CGO_ENABLED=0 GOARCH=amd64 GOOS=linux go build -ldflags "-s -w -extldflags '-static'" -o ./app
RUN command -v upx >/dev/null || apk add upx
RUN upx ./app

FROM scratch
COPY --from=build /build/app /app

ENTRYPOINT ["/app"]
