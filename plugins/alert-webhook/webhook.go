package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hemostat/hemostat/plugins/internal/delivery"
	"github.com/hemostat/hemostat/sdk"
)

// Name is the plugin's name in hemostatd's config.
const Name = "webhook"

// Version goes into the User-Agent.
var Version = "dev"

// Plugin posts notifications to one URL.
type Plugin struct {
	cfg    atomic.Pointer[Config]
	client *http.Client
	now    func() time.Time
}

var _ sdk.Notifier = (*Plugin)(nil)

// New returns an unconfigured plugin.
func New() *Plugin {
	return &Plugin{client: &http.Client{
		// A redirect could carry the signature to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, now: time.Now}
}

// Configure checks and applies the config block. Nothing is sent: a probe
// would be a message the receiver must understand.
func (p *Plugin) Configure(_ context.Context, raw json.RawMessage, _ sdk.Host) error {
	c, err := ParseConfig(raw)
	if err != nil {
		return err
	}
	p.cfg.Store(&c)
	return nil
}

// Notify posts one notification. The deadline is the host's.
func (p *Plugin) Notify(ctx context.Context, n sdk.Notification) error {
	c := p.cfg.Load()
	if c == nil {
		return sdk.Permanent(errors.New("webhook: not configured"))
	}
	body, err := Encode(n)
	if err != nil {
		return sdk.Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return sdk.Permanent(delivery.Transport("webhook", err))
	}
	for k, v := range c.Headers {
		req.Header.Set(k, v)
	}
	now := p.now()
	sum := sha256.Sum256(body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hemostat-alert-webhook/"+Version)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderDelivery, hex.EncodeToString(sum[:12]))
	req.Header.Set(HeaderKind, n.Kind)
	if c.Secret != "" {
		req.Header.Set(HeaderSignature, Sign([]byte(c.Secret), now.Unix(), body))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return delivery.Transport("webhook", err)
	}
	defer resp.Body.Close()
	detail, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return delivery.Classify("webhook", resp, delivery.Snippet(detail, 200), now)
}
