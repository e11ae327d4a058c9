# Multi-stage build: a static binary (pure-Go SQLite, CGO off) in a small
# non-root image. Build: docker build -t jifen .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/jifen ./cmd/jifen

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/jifen /jifen
WORKDIR /home/nonroot
ENV JIFEN_SERVER_ADDR=0.0.0.0:8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/jifen", "serve"]
