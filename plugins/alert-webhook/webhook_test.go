package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hemostat/hemostat/plugins/internal/notifytest"
	"github.com/hemostat/hemostat/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const secret = "whsec_test_3f9c2a71"

// receiver is a loopback webhook receiver that verifies every signature,
// as a team's service would, and answers with the next status of its
// script (200 once it is used up).
type receiver struct {
	mu       sync.Mutex
	script   []int
	bodies   [][]byte
	headers  []http.Header
	verified int
	srv      *httptest.Server
}

func newReceiver(t *testing.T, script ...int) *receiver {
	r := &receiver{script: script}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.bodies = append(r.bodies, body)
		r.headers = append(r.headers, req.Header.Clone())
		if err := Verify([]byte(secret), req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderSignature), body, time.Now(), 5*time.Minute); err == nil {
			r.verified++
		}
		code := http.StatusOK
		if len(r.script) > 0 {
			code, r.script = r.script[0], r.script[1:]
		}
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "12")
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func configured(t *testing.T, url string) *sdk.Harness {
	h := sdk.NewHarness(t, New())
	if err := h.Configure(context.Background(), map[string]any{
		"url": url, "secret": secret, "headers": map[string]string{"Authorization": "Bearer team-token"},
	}); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestGoldenBodies: the body of every kind of notification is stable, and
// every request is signed so that the receiver verifies it.
func TestGoldenBodies(t *testing.T) {
	rcv := newReceiver(t)
	h := configured(t, rcv.srv.URL+"/hook/SECRETPATH")
	for _, s := range notifytest.Samples() {
		t.Run(s.Name, func(t *testing.T) {
			if err := h.Notifier().Notify(context.Background(), s.N); err != nil {
				t.Fatal(err)
			}
			rcv.mu.Lock()
			body := rcv.bodies[len(rcv.bodies)-1]
			hdr := rcv.headers[len(rcv.headers)-1]
			rcv.mu.Unlock()
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, body, "", "  "); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			pretty.WriteByte('\n')
			golden := filepath.Join("testdata", s.Name+".json")
			if *update {
				if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if pretty.String() != string(want) {
				t.Errorf("body differs from %s (run with -update to accept):\n%s", golden, pretty.String())
			}
			if hdr.Get("Authorization") != "Bearer team-token" || hdr.Get("Content-Type") != "application/json" || hdr.Get(HeaderKind) != s.N.Kind {
				t.Errorf("headers %v", hdr)
			}
			var p Payload
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if len(s.N.Event) > 0 && !bytes.Equal(p.Event, s.N.Event) {
				t.Errorf("event is not the envelope byte for byte:\n%s\n%s", p.Event, s.N.Event)
			}
		})
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.verified != len(notifytest.Samples()) {
		t.Errorf("the receiver verified %d of %d signatures", rcv.verified, len(rcv.bodies))
	}
}

// TestAnswers: what each answer means for hemostatd's retries; the URL,
// which holds a secret, is never in the error.
func TestAnswers(t *testing.T) {
	n := notifytest.Samples()[0].N
	for _, tc := range []struct {
		code      int
		permanent bool
		after     time.Duration
	}{
		{http.StatusNotFound, true, 0},
		{http.StatusTooManyRequests, false, 12 * time.Second},
		{http.StatusInternalServerError, false, 0},
		{http.StatusBadGateway, false, 0},
	} {
		rcv := newReceiver(t, tc.code)
		h := configured(t, rcv.srv.URL+"/hook/SECRETPATH")
		err := h.Notifier().Notify(context.Background(), n)
		if err == nil {
			t.Fatalf("%d: delivered", tc.code)
		}
		if sdk.IsPermanent(err) != tc.permanent {
			t.Errorf("%d: permanent = %v, want %v", tc.code, !tc.permanent, tc.permanent)
		}
		if d, _ := sdk.RetryAfterOf(err); d != tc.after {
			t.Errorf("%d: retry after %s, want %s", tc.code, d, tc.after)
		}
		if strings.Contains(err.Error(), "SECRETPATH") || strings.Contains(err.Error(), secret) {
			t.Errorf("%d: the error shows a secret: %v", tc.code, err)
		}
		// The retry hemostatd makes succeeds and carries the same id.
		if err := h.Notifier().Notify(context.Background(), n); err != nil {
			t.Errorf("%d: retry: %v", tc.code, err)
		}
		if a, b := rcv.headers[0].Get(HeaderDelivery), rcv.headers[1].Get(HeaderDelivery); a == "" || a != b {
			t.Errorf("%d: delivery ids %q, %q; want one id for both tries", tc.code, a, b)
		}
	}
	// Nobody listening: a network error, retried, without the URL.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hook/SECRETPATH"
	srv.Close()
	err := configured(t, url).Notifier().Notify(context.Background(), n)
	if err == nil || sdk.IsPermanent(err) || strings.Contains(err.Error(), "SECRETPATH") {
		t.Errorf("connection refused: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{}, "url: is required"},
		{map[string]any{"url": "hooks.example.com/x"}, "url: must be an http:// or https:// URL"},
		{map[string]any{"url": "https://x/y", "headers": map[string]string{"X-Hemostat-Signature": "forged"}}, "headers: X-Hemostat-Signature is set by the plugin"},
		{map[string]any{"url": "https://x/y", "colour": "red"}, "colour: unknown setting"},
	} {
		err := sdk.NewHarness(t, New()).Configure(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestVerifyRefusesTamperingAndReplay(t *testing.T) {
	body := []byte(`{"version":1}`)
	now := time.Unix(1_800_000_000, 0)
	sig := Sign([]byte(secret), now.Unix(), body)
	ts := "1800000000"
	if err := Verify([]byte(secret), ts, sig, body, now, time.Minute); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	if Verify([]byte(secret), ts, sig, []byte(`{"version":2}`), now, time.Minute) == nil {
		t.Error("a changed body passed")
	}
	if Verify([]byte("other"), ts, sig, body, now, time.Minute) == nil {
		t.Error("another secret passed")
	}
	if Verify([]byte(secret), ts, sig, body, now.Add(10*time.Minute), time.Minute) == nil {
		t.Error("a replay ten minutes later passed")
	}
}
