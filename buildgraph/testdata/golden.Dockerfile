# syntax=docker/dockerfile:1
# check=skip=JSONArgsRecommended
ARG GO_VERSION=1.22
ARG BASE=alpine

# deps downloads the Go modules.
FROM golang:${GO_VERSION} AS deps
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download

# builder compiles the binary.
FROM deps as Builder
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -o /out/app .

FROM builder AS test
RUN go test ./... > /report

FROM --platform=$BUILDPLATFORM ${BASE}:3.19 AS certs
RUN <<EOT
apk add ca-certificates
update-ca-certificates
EOT

# release is the production image.
FROM scratch AS release
COPY --from=certs /etc/ssl/certs /etc/ssl/certs
COPY --from=builder /out/app /app
COPY --from=busybox:1.36 /bin/busybox /bin/busybox
ENTRYPOINT ["/app"]

FROM release AS debug
RUN --mount=type=bind,from=test,target=/t cat /t/report
