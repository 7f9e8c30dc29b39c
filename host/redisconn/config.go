package redisconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
)

// Config says where Redis is and how to reach it.
type Config struct {
	// Addresses are host:port pairs. None means an embedded in-process
	// Redis; one is a single server (or, with SentinelMaster, a Sentinel);
	// several are Sentinels or the seed nodes of a Cluster.
	Addresses []string
	// SentinelMaster names the master to ask the Sentinels at Addresses for.
	SentinelMaster string
	Username       string
	Password       string
	DB             int
	TLS            TLSConfig
}

// TLSConfig enables and configures TLS to Redis.
type TLSConfig struct {
	Enabled bool
	// CAFile is a PEM bundle of the CAs to trust instead of the system's.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// servers that require one (tls-auth-clients).
	CertFile string
	KeyFile  string
	// ServerName is the name the server's certificate must carry; by
	// default the host of the first address.
	ServerName         string
	InsecureSkipVerify bool
}

// Mode names the kind of deployment a Config describes.
func (c Config) Mode() string {
	switch {
	case len(c.Addresses) == 0:
		return "embedded"
	case c.SentinelMaster != "":
		return "sentinel"
	case len(c.Addresses) > 1:
		return "cluster"
	default:
		return "single"
	}
}

// Validate reports what is wrong with the configuration, all at once.
func (c Config) Validate() error {
	var errs []error
	for _, a := range c.Addresses {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("redis address %q is not host:port: %w", a, err))
		}
	}
	if c.DB < 0 {
		errs = append(errs, fmt.Errorf("redis db %d is negative", c.DB))
	}
	if c.DB != 0 && c.Mode() == "cluster" {
		errs = append(errs, fmt.Errorf("redis db %d: a Cluster has only db 0", c.DB))
	}
	if c.Password == "" && c.Username != "" {
		errs = append(errs, errors.New("redis username is set without a password"))
	}
	t := c.TLS
	if !t.Enabled && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify) {
		errs = append(errs, errors.New("redis TLS settings are given but TLS is not enabled"))
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("redis TLS client certificate needs both a cert file and a key file"))
	}
	if t.Enabled && len(c.Addresses) == 0 {
		errs = append(errs, errors.New("redis TLS is enabled but no address is given (the embedded Redis speaks plain TCP on loopback)"))
	}
	return errors.Join(errs...)
}

// tlsConfig builds the crypto/tls configuration, or nil when TLS is off.
func (c Config) tlsConfig() (*tls.Config, error) {
	t := c.TLS
	if !t.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify,
	}
	if cfg.ServerName == "" && len(c.Addresses) > 0 {
		// crypto/tls refuses to verify without a name. Sentinels, their
		// master and Cluster nodes share one certificate in the usual
		// setups, so the first address's host is the sensible default.
		host, _, _ := net.SplitHostPort(c.Addresses[0])
		cfg.ServerName = host
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("redis TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis TLS CA file %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("redis TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
