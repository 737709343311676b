# Seed: "Minimal Go Docker Container (122x smaller)", Lukas Herman, 2018
# (/work/shared/seeds/000), Dockerfile.blank. Category: scratch.
# Changed for this benchmark (offline, no registry):
#   - The builder FROM is a build arg, GO_IMAGE (article: golang:1.10.3-alpine);
#     the benchmark passes the stand-in standin/golang:1.27-alpine. The runtime
#     stage is scratch, as published (no stand-in involved in the image's size).
#   - The program is the template's http main.go (module `app`, so the binary is ./app).
ARG GO_IMAGE=golang:1.10.3-alpine
FROM ${GO_IMAGE} AS builder

WORKDIR /go/src/app
COPY . .
RUN CGO_ENABLED=0 go build

FROM scratch
EXPOSE 8080

COPY --from=builder /go/src/app/app .
ENTRYPOINT [ "./app" ]
