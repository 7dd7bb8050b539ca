# apppass container image: a static binary on distroless, running as a
# non-root user. Build: docker build -t apppass .
# Untested on the development machines (they have no container engine);
# see README "Container".

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: modernc SQLite and pgx are pure Go, so the binary needs
# no libc and runs on an image without a shell.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/apppass/apppass/app.Version=${VERSION}" -o /out/apppass . \
 && mkdir -p /out/data

# static-debian12 carries CA certificates and tzdata (cron time zones),
# nothing else; :nonroot runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/apppass /apppass
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
USER 65532:65532
ENV APPPASS_DB=/data/apppass.db \
    APPPASS_HTTP_ADDR=:9090
EXPOSE 9090 587 465
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s CMD ["/apppass", "health"]
ENTRYPOINT ["/apppass"]
CMD ["serve"]
