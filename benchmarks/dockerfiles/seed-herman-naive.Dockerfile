# Seed: "Minimal Go Docker Container (122x smaller)", Lukas Herman, 2018
# (/work/shared/seeds/000), Dockerfile.naive. Category: single-stage golang.
# Changed for this benchmark (offline, no registry):
#   - FROM is a build arg, GO_IMAGE, defaulting to the article's golang:1.10.3 (Debian).
#     The benchmark passes the stand-in standin/golang:1.27-alpine: an Alpine-sized
#     toolchain image, far smaller than the Debian-based golang image, so this
#     image's measured size is much smaller than the article's 801 MB.
#   - The program is the template's http main.go (module named `app`, so `go build`
#     writes ./app as the ENTRYPOINT expects), not the article's app.go.
ARG GO_IMAGE=golang:1.10.3
FROM ${GO_IMAGE}

WORKDIR /go/src/app
COPY . .
RUN go build

EXPOSE 8080
ENTRYPOINT [ "./app" ]
