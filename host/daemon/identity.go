package daemon

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/docker/docker/client"
	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/protocol"
)

// engineNameTimeout bounds the one `docker info` asked at start-up for the
// host name: an engine that does not answer must not hold the daemon up.
const engineNameTimeout = 5 * time.Second

// hostName is this daemon's host on the bus: the configured one, else the
// engine's own name (docker info, which DOCKER_HOST selects, as the
// built-in plugins' engine), else the machine's host name. The engine's
// name comes first because it is what names the Docker host the monitor
// and responder act on, wherever hemostatd itself runs.
func hostName(ctx context.Context, cfg *config.Config, log hclog.Logger) string {
	if cfg.Host != "" {
		return cfg.Host
	}
	if name, err := engineName(ctx); err != nil {
		log.Debug("the Docker engine cannot name the host; using the machine's name", "error", err)
	} else if protocol.CheckHostName(name) == nil {
		return name
	} else {
		log.Warn("the Docker engine's name cannot name the host; using the machine's name", "name", name)
	}
	name, _ := os.Hostname()
	// Keep what a key can hold of a strange host name rather than fail.
	name = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("/:*?[]{}\\\"'", r) {
			return '-'
		}
		return r
	}, name)
	if protocol.CheckHostName(name) != nil {
		return "hemostatd"
	}
	return name
}

func engineName(ctx context.Context) (string, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return "", err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, engineNameTimeout)
	defer cancel()
	info, err := cli.Info(ctx)
	if err != nil {
		return "", err
	}
	return info.Name, nil
}
