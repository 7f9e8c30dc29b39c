package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/redisconn"
)

// Target is the Redis the commands read and how it was found.
type Target struct {
	Addresses []string
	// Source says where the addresses came from: "-redis", the config's
	// redis block, or the address file of the embedded Redis.
	Source string
}

// Resolve picks the Redis to read: override (-redis ADDR) if set, else
// the config's redis block, else the address a running hemostatd wrote
// for its embedded Redis.
func Resolve(cfg *config.Config, override string) (Target, error) {
	switch {
	case override != "":
		return Target{Addresses: []string{override}, Source: "-redis"}, nil
	case len(cfg.Redis.Addresses) > 0:
		return Target{Addresses: cfg.Redis.Addresses, Source: "config"}, nil
	}
	file := cfg.RedisAddrFile()
	raw, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return Target{}, fmt.Errorf("no Redis configured and no embedded Redis address in %s: is hemostatd running with this data_dir? (or pass -redis ADDR)", file)
	}
	if err != nil {
		return Target{}, err
	}
	addr := strings.TrimSpace(string(raw))
	if addr == "" {
		return Target{}, fmt.Errorf("%s is empty", file)
	}
	return Target{Addresses: []string{addr}, Source: file}, nil
}

// Connect opens a client to t with the config's credentials and TLS.
func Connect(ctx context.Context, cfg *config.Config, t Target) (redis.UniversalClient, io.Closer, error) {
	r := cfg.Redis
	rc := redisconn.Config{
		Addresses: t.Addresses, SentinelMaster: r.SentinelMaster, Username: r.Username, Password: r.Password, DB: r.DB,
		TLS: redisconn.TLSConfig{
			Enabled: r.TLS.Enabled, CAFile: r.TLS.CAFile, CertFile: r.TLS.CertFile, KeyFile: r.TLS.KeyFile,
			ServerName: r.TLS.ServerName, InsecureSkipVerify: r.TLS.InsecureSkipVerify,
		},
	}
	if t.Source != "config" {
		// Another server than the configured one: its sentinel and TLS
		// settings do not apply.
		rc.SentinelMaster, rc.TLS = "", redisconn.TLSConfig{}
	}
	return redisconn.Open(ctx, rc, nil)
}
