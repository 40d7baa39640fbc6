# The leadscore image: one static binary (CGO_ENABLED=0) on distroless, running as a non-root user.
#   docker build -t ghcr.io/leadscore/leadscore:$(git describe --always) --build-arg VERSION=$(git describe --always) .
# Its entrypoint is the binary, so a container's args are a leadscore command line (serve ..., train ...).
# No Docker engine runs in this repository's CI, so this file is not built there; make deploy-check checks
# the chart that runs the image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/leadscore ./cmd/leadscore

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/leadscore /usr/local/bin/leadscore
# 65532 is distroless's nonroot user; the chart runs as the same ids.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/leadscore"]
