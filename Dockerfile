# hemostatd as a static binary on an empty base image.
#
#   docker build -t hemostat/hemostatd .
#
# Built-in plugins run by re-executing /hemostatd, so the image needs nothing
# else but a temp directory. Custom plugins go in /plugins (mount a volume
# there). deploy/image_test.go builds this file's last stage and runs it.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hemostatd ./cmd/hemostatd \
 && mkdir -m 1777 /out/tmp

FROM scratch
# go-plugin talks to each plugin over a Unix socket in the temp directory,
# which an empty base image lacks.
COPY --from=build /out/tmp /tmp
COPY --from=build /out/hemostatd /hemostatd
COPY deploy/hemostat.hcl /etc/hemostat/hemostat.hcl
# The Docker socket is root's; hemostatd needs it to watch and heal.
USER 0:0
EXPOSE 9090
ENTRYPOINT ["/hemostatd"]
CMD ["-config", "/etc/hemostat/hemostat.hcl"]
