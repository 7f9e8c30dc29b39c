package redisconn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/internal/testenv"
)

// testPKI is a CA and the certificates it signed, as PEM files.
type testPKI struct {
	caFile, serverCert, serverKey, clientCert, clientKey string
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hemostat test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:     []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certFile = writePEM(t, dir, name+".crt", "CERTIFICATE", der)
		keyFile = writePEM(t, dir, name+".key", "EC PRIVATE KEY", keyDER)
		return certFile, keyFile
	}
	p := testPKI{caFile: writePEM(t, dir, "ca.crt", "CERTIFICATE", caDER)}
	p.serverCert, p.serverKey = issue(2, "server", x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = issue(3, "client", x509.ExtKeyUsageClientAuth)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t *testing.T, dir, name, kind string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenTLS(t *testing.T) {
	pki := newTestPKI(t)
	tlsAddr := freeAddr(t)
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	testenv.StartRedis(t,
		"--tls-port", tlsPort,
		"--tls-cert-file", pki.serverCert, "--tls-key-file", pki.serverKey,
		"--tls-ca-cert-file", pki.caFile, "--tls-auth-clients", "yes",
		"--requirepass", testPassword)

	withClientCert := TLSConfig{Enabled: true, CAFile: pki.caFile, CertFile: pki.clientCert, KeyFile: pki.clientKey}
	tests := []struct {
		name    string
		tls     TLSConfig
		addr    string
		fail    bool
		wantErr string // what the error must mention, if anything
	}{
		{"verified, by IP", withClientCert, tlsAddr, false, ""},
		{"verified, by name", withClientCert, "localhost:" + tlsPort, false, ""},
		{"wrong server name", func() TLSConfig { c := withClientCert; c.ServerName = "redis.example"; return c }(), tlsAddr, true, "certificate"},
		{"unknown CA", TLSConfig{Enabled: true, CertFile: pki.clientCert, KeyFile: pki.clientKey}, tlsAddr, true, "certificate"},
		{"unverified", TLSConfig{Enabled: true, InsecureSkipVerify: true, CertFile: pki.clientCert, KeyFile: pki.clientKey}, tlsAddr, false, ""},
		// The server demands a client certificate; whether the handshake
		// or the first command fails depends on the TLS version.
		{"no client certificate", TLSConfig{Enabled: true, CAFile: pki.caFile}, tlsAddr, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			client, closer, err := Open(ctx, Config{Addresses: []string{tt.addr}, Password: testPassword, TLS: tt.tls}, nil)
			if tt.fail {
				if err == nil {
					closer.Close()
					t.Fatalf("Open succeeded; want an error about %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), testPassword) {
					t.Errorf("error %q: want it to mention %q and not the password", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer closer.Close()
			if err := client.Set(ctx, "k", strconv.Itoa(1), 0).Err(); err != nil {
				t.Fatalf("SET over TLS: %v", err)
			}
		})
	}
}
