# The apilayer gateway image: the static binary that "make dist" builds, on
# distroless static (CA certificates, time zones, /etc/passwd with the user
# nonroot, 65532), with nothing else: no shell, no package manager.
#
#   make dist                       # builds dist/linux_amd64/apilayer and dist/linux_arm64/apilayer
#   docker build -t apilayer .      # or: make image (docker, podman or buildah)
#   docker buildx build --platform linux/amd64,linux/arm64 -t apilayer .
#
# The config is read from /etc/apilayer/apilayer.yaml: mount a file or a
# ConfigMap there (deploy/ has examples), and give secrets as environment
# variables that it references as ${VAR}.
FROM gcr.io/distroless/static-debian12:nonroot

# Set by docker (BuildKit) to the platform being built; older podman and
# buildah need --build-arg TARGETARCH=amd64 (make image passes it). No
# default here: buildx would then use it for every platform.
ARG TARGETARCH
COPY dist/linux_${TARGETARCH}/apilayer /usr/local/bin/apilayer

ENV APILAYER_CONFIG=/etc/apilayer/apilayer.yaml
USER 65532:65532
EXPOSE 8080

# Docker and compose run this (Kubernetes uses the Deployment's probes; the
# OCI image format drops it: build with --format docker under podman or
# buildah). apilayer healthcheck reads listen, tls and health.path from
# $APILAYER_CONFIG and GETs the health endpoint on loopback.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/apilayer", "healthcheck", "--timeout", "4s"]

ENTRYPOINT ["/usr/local/bin/apilayer"]
CMD ["serve"]
