package redisconn

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/internal/testenv"
)

const testPassword = "s3cret-pa55word"

func TestOpenRealRedisWithAuth(t *testing.T) {
	srv := testenv.StartRedis(t, "--requirepass", testPassword)
	ctx := context.Background()

	client, closer, err := Open(ctx, Config{Addresses: []string{srv.Addr()}, Password: testPassword}, hclog.NewNullLogger())
	if err != nil {
		t.Fatalf("Open with the right password: %v", err)
	}
	if err := client.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := client.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}
	if err := closer.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := client.Ping(ctx).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("PING after Close = %v, want %v", err, redis.ErrClosed)
	}
}

func TestOpenRejects(t *testing.T) {
	srv := testenv.StartRedis(t, "--requirepass", testPassword)
	unused := freeAddr(t)

	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"wrong password", Config{Addresses: []string{srv.Addr()}, Password: "not-" + testPassword}, "WRONGPASS"},
		{"no password", Config{Addresses: []string{srv.Addr()}}, "NOAUTH"},
		{"nobody listening", Config{Addresses: []string{unused}}, unused},
		{"not host:port", Config{Addresses: []string{"localhost"}}, `"localhost" is not host:port`},
		{"negative db", Config{DB: -1}, "db -1 is negative"},
		{"db on a cluster", Config{Addresses: []string{"127.0.0.1:1", "127.0.0.1:2"}, DB: 2}, "only db 0"},
		{"username without password", Config{Addresses: []string{srv.Addr()}, Username: "u"}, "without a password"},
		{"tls settings without tls", Config{Addresses: []string{srv.Addr()}, TLS: TLSConfig{CAFile: "ca.pem"}}, "TLS is not enabled"},
		{"cert without key", Config{Addresses: []string{srv.Addr()}, TLS: TLSConfig{Enabled: true, CertFile: "c.pem"}}, "both a cert file and a key file"},
		{"tls on embedded", Config{TLS: TLSConfig{Enabled: true}}, "no address"},
		{"missing ca file", Config{Addresses: []string{srv.Addr()}, TLS: TLSConfig{Enabled: true, CAFile: filepath.Join(t.TempDir(), "none.pem")}}, "CA file"},
		{"ca file without pem", Config{Addresses: []string{srv.Addr()}, TLS: TLSConfig{Enabled: true, CAFile: writeFile(t, "junk.pem", "not a certificate")}}, "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			client, closer, err := Open(ctx, tt.cfg, nil)
			if err == nil {
				closer.Close()
				t.Fatalf("Open succeeded; want an error containing %q", tt.wantErr)
			}
			if client != nil || closer != nil {
				t.Errorf("Open returned a client or closer along with error %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error %q reveals the password", err)
			}
		})
	}
}

func TestOpenEmbedded(t *testing.T) {
	ctx := context.Background()
	client, closer, err := Open(ctx, Config{}, hclog.NewNullLogger())
	if err != nil {
		t.Fatalf("Open embedded: %v", err)
	}
	defer closer.Close()

	addr := client.(*redis.Client).Options().Addr
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		t.Errorf("embedded redis listens on %s, want loopback", addr)
	}
	if err := client.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}

	// Keys expire in real time, as on a real server.
	if err := client.Set(ctx, "short", "v", time.Second).Err(); err != nil {
		t.Fatalf("SET EX: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for client.Exists(ctx, "short").Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("a key with a 1 s TTL still exists after 10 s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := closer.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := closer.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("embedded redis still accepts connections on %s after Close", addr)
	}
}

func TestOpenEmbeddedWithPassword(t *testing.T) {
	ctx := context.Background()
	client, closer, err := Open(ctx, Config{Password: testPassword}, nil)
	if err != nil {
		t.Fatalf("Open embedded with password: %v", err)
	}
	defer closer.Close()

	anon := redis.NewClient(&redis.Options{Addr: client.(*redis.Client).Options().Addr})
	defer anon.Close()
	if err := anon.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("PING without password = %v, want NOAUTH", err)
	}
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING with password: %v", err)
	}
}

func TestMode(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "embedded"},
		{Config{Addresses: []string{"a:1"}}, "single"},
		{Config{Addresses: []string{"a:1", "b:1"}}, "cluster"},
		{Config{Addresses: []string{"a:1", "b:1"}, SentinelMaster: "m"}, "sentinel"},
		{Config{Addresses: []string{"a:1"}, SentinelMaster: "m"}, "sentinel"},
	}
	for _, tt := range tests {
		if got := tt.cfg.Mode(); got != tt.want {
			t.Errorf("%+v.Mode() = %q, want %q", tt.cfg, got, tt.want)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
