# syntax=docker/dockerfile:1

# broadsheet's container image: the static binary (CGO_ENABLED=0; the
# embedded SQLite store is pure Go) on an empty base with CA certificates,
# run as a non-root user, with its configuration, store and outbox in the
# /data volume. The first run of a new volume starts from the shipped
# config.yaml; edit it there (`docker compose exec broadsheet broadsheet
# sources add URL` does) and the daemon reloads it.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t broadsheet .
#   docker run -p 8080:8080 -v broadsheet-data:/data broadsheet
#
# compose.yaml runs it with PostgreSQL. scripts/check-deploy lints this
# file and builds and runs the binary as this image does.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# The modules first, so that a change to the code does not fetch them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN make static STATIC_OUT=/out/broadsheet VERSION="${VERSION}" \
    && mkdir -p /out/data \
    && cp config.yaml /out/data/config.yaml

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/broadsheet /broadsheet
COPY --from=build --chown=65532:65532 /out/data /data
# The shipped config.yaml listens on loopback and keeps its store under
# ./data; in the image the server listens on every address and the store
# is in the volume.
ENV BROADSHEET_CONFIG=/data/config.yaml
ENV BROADSHEET_STORAGE_PATH=/data/broadsheet.db
ENV BROADSHEET_LISTEN=:8080
WORKDIR /data
USER 65532:65532
VOLUME /data
EXPOSE 8080
# The image has no shell or curl: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/broadsheet", "healthcheck"]
ENTRYPOINT ["/broadsheet"]
CMD ["run"]
