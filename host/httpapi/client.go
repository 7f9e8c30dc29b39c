package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hemostat/hemostat/host/silence"
)

// Client calls a running hemostatd's API; `hemostatd silence` uses it, so
// that silences work with the embedded Redis too.
type Client struct {
	// Base is the server's URL, such as http://127.0.0.1:9090.
	Base  string
	Token string
	HTTP  *http.Client
}

// NewClient returns a client for address (host:port or a URL).
func NewClient(address, token string) *Client {
	base := address
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{Base: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// Silences lists every silence.
func (c *Client) Silences(ctx context.Context) ([]silence.Silence, error) {
	var out SilenceList
	err := c.do(ctx, http.MethodGet, "/api/v1/silences", nil, &out)
	return out.Silences, err
}

// AddSilence creates a silence.
func (c *Client) AddSilence(ctx context.Context, req SilenceRequest) (silence.Silence, error) {
	var out silence.Silence
	err := c.do(ctx, http.MethodPost, "/api/v1/silences", req, &out)
	return out, err
}

// ExpireSilence ends a silence now.
func (c *Client) ExpireSilence(ctx context.Context, id string) (silence.Silence, error) {
	var out silence.Silence
	err := c.do(ctx, http.MethodPost, "/api/v1/silences/"+url.PathEscape(id)+"/expire", nil, &out)
	return out, err
}

func (c *Client) do(ctx context.Context, method, path string, body, into any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("hemostatd API at %s: %w", c.Base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("hemostatd API at %s: %w", c.Base, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s", e.Error)
		}
		return fmt.Errorf("hemostatd API at %s: %s: %s", c.Base, resp.Status, strings.TrimSpace(string(raw)))
	}
	return json.Unmarshal(raw, into)
}
