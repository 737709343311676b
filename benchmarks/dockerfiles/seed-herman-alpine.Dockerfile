# Seed: "Minimal Go Docker Container (122x smaller)", Lukas Herman, 2018
# (/work/shared/seeds/000), Dockerfile.alpine. Category: alpine single-stage.
# Changed for this benchmark (offline, no registry):
#   - FROM is a build arg, GO_IMAGE, defaulting to the article's golang:1.10.3-alpine;
#     the benchmark passes the stand-in standin/golang:1.27-alpine.
#   - The program is the template's http main.go (module `app`, so the binary is ./app).
ARG GO_IMAGE=golang:1.10.3-alpine
FROM ${GO_IMAGE}

WORKDIR /go/src/app
COPY . .
RUN go build

EXPOSE 8080
ENTRYPOINT [ "./app" ]
