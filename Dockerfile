# syntax=docker/dockerfile:1
# Build: docker build -t idgraph .
# The image carries Debian's Chromium, so the Stonly collector can start
# it; in Kubernetes a headless-shell sidecar can be used instead
# (deploy/kubernetes/cronjob.yaml, stonly.browser_url).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/idgraph ./cmd/idgraph

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --create-home idgraph
COPY --from=build /out/idgraph /usr/local/bin/idgraph
USER idgraph
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/idgraph"]
CMD ["run", "--config", "/etc/idgraph/idgraph.yaml", "--log-format", "json"]
