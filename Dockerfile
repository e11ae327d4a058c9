# Multi-stage build: a static binary (pure-Go SQLite, CGO off) in a small
# non-root image.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg REVISION="$(git rev-parse HEAD)" -t jifen .
#   docker run -p 8080:8080 -v jifen-data:/data jifen            # embedded default
#   docker run jifen version | jifen --help | jifen migrate …    # any command
#
# The build context has no .git (.dockerignore), so the version and revision
# that `jifen version` prints are stamped with -ldflags from the build args.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG REVISION=""
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
      -o /out/jifen ./cmd/jifen \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/jifen /jifen
# The embedded default's SQLite file; a volume so it outlives the container.
COPY --from=build --chown=nonroot:nonroot /out/data /data
VOLUME ["/data"]
# Listen on every interface inside the container. The demo console users
# and the in-process WeChat simulator's /_sim/ routes stay off unless asked
# for: -e JIFEN_CONSOLE_DEMO_USERS=true -e JIFEN_WECHAT_SIMULATOR_ROUTES=true.
ENV JIFEN_SERVER_ADDR=0.0.0.0:8080 \
    JIFEN_DATA_DIR=/data \
    JIFEN_CONSOLE_DEMO_USERS=false \
    JIFEN_WECHAT_SIMULATOR_ROUTES=false
EXPOSE 8080
USER nonroot:nonroot
# distroless has no shell or curl: the binary checks /readyz itself.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/jifen", "healthcheck"]
ENTRYPOINT ["/jifen"]
CMD ["serve"]
