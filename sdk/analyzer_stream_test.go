package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pluginv1 "github.com/hemostat/hemostat/proto/hemostat/plugin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// namedAnalyzer decides to restart, giving the container as its reason;
// it holds the container "slow" until release is closed and fails "boom".
type namedAnalyzer struct {
	release chan struct{}
	calls   atomic.Int64
}

func (a *namedAnalyzer) Configure(context.Context, json.RawMessage, Host) error { return nil }

func (a *namedAnalyzer) Analyze(ctx context.Context, req AnalyzeRequest) (Decision, error) {
	a.calls.Add(1)
	switch req.Alert.Container {
	case "slow":
		select {
		case <-a.release:
		case <-ctx.Done():
			return Decision{}, ctx.Err()
		}
	case "boom":
		return Decision{}, errors.New("cannot judge boom")
	}
	return Decision{Verdict: VerdictRemediate, Action: "restart", Reason: req.Alert.Container, Confidence: 0.5}, nil
}

// unaryOnly is a plugin built before AnalyzeStream: the generated
// Unimplemented answers it.
type unaryOnly struct {
	pluginv1.UnimplementedAnalyzerServiceServer
	inner *analyzerServer
}

func (u unaryOnly) Analyze(ctx context.Context, req *pluginv1.AnalyzeRequest) (*pluginv1.AnalyzeResponse, error) {
	return u.inner.Analyze(ctx, req)
}

// serveAnalyzer serves srv on a loopback port and returns a client of it.
func serveAnalyzer(t *testing.T, srv pluginv1.AnalyzerServiceServer) *AnalyzerClient {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	pluginv1.RegisterAnalyzerServiceServer(s, srv)
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := pluginv1.NewAnalyzerServiceClient(conn)
	return &AnalyzerClient{client: client, mux: &analyzeMux{client: client}}
}

// analyzeAll judges n containers at once and checks each decision is its
// own.
func analyzeAll(t *testing.T, c *AnalyzerClient, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("c%d", i)
			d, err := c.Analyze(ctx, AnalyzeRequest{Alert: Alert{Container: name, Issues: []string{"x"}}})
			if err != nil || d.Reason != name {
				t.Errorf("%s: decision %+v, %v", name, d, err)
			}
		}()
	}
	wg.Wait()
}

// TestAnalyzeStream: concurrent calls share the stream and each gets its
// own answer; a failing call fails alone; a slow call holds up no other.
func TestAnalyzeStream(t *testing.T) {
	impl := &namedAnalyzer{release: make(chan struct{})}
	c := serveAnalyzer(t, &analyzerServer{impl: impl})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	slow := make(chan error, 1)
	go func() {
		_, err := c.Analyze(ctx, AnalyzeRequest{Alert: Alert{Container: "slow"}})
		slow <- err
	}()
	analyzeAll(t, c, 500)
	_, err := c.Analyze(ctx, AnalyzeRequest{Alert: Alert{Container: "boom"}})
	var rpcErr *RPCError
	if !errors.As(err, &rpcErr) || rpcErr.Message != "cannot judge boom" {
		t.Errorf("failing call: %v, want the analyzer's error", err)
	}
	select {
	case err := <-slow:
		t.Fatalf("the slow call returned before its release: %v", err)
	default:
	}
	close(impl.release)
	if err := <-slow; err != nil {
		t.Errorf("slow call: %v", err)
	}
	if c.mux.unsupported {
		t.Error("the stream was taken for unsupported")
	}
}

// TestAnalyzeStreamDeadline: the call's deadline reaches the plugin, whose
// context ends with it.
func TestAnalyzeStreamDeadline(t *testing.T) {
	impl := &namedAnalyzer{release: make(chan struct{})}
	c := serveAnalyzer(t, &analyzerServer{impl: impl})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.Analyze(ctx, AnalyzeRequest{Alert: Alert{Container: "slow"}}); !errors.Is(err, context.DeadlineExceeded) && !isDeadline(err) {
		t.Fatalf("slow call past its deadline: %v", err)
	}
	// The stream still serves the next call.
	analyzeAll(t, c, 10)
}

func isDeadline(err error) bool {
	var rpcErr *RPCError
	return errors.As(err, &rpcErr) && rpcErr.Code == "DeadlineExceeded"
}

// TestAnalyzeStreamUnsupported: a plugin built before AnalyzeStream is
// called by Analyze, every call judged once.
func TestAnalyzeStreamUnsupported(t *testing.T) {
	impl := &namedAnalyzer{}
	c := serveAnalyzer(t, unaryOnly{inner: &analyzerServer{impl: impl}})
	analyzeAll(t, c, 50)
	if !c.mux.unsupported {
		t.Error("the stream was not found unsupported")
	}
	if n := impl.calls.Load(); n != 50 {
		t.Errorf("%d calls judged, want 50", n)
	}
}

// TestAnalyzeStreamBroken: the plugin going away fails the calls waiting
// as unavailable, and a plugin back on the same connection is streamed
// to again.
func TestAnalyzeStreamBroken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	impl := &namedAnalyzer{release: make(chan struct{})}
	s := grpc.NewServer()
	pluginv1.RegisterAnalyzerServiceServer(s, &analyzerServer{impl: impl})
	go s.Serve(ln)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pluginv1.NewAnalyzerServiceClient(conn)
	c := &AnalyzerClient{client: client, mux: &analyzeMux{client: client}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	slow := make(chan error, 1)
	go func() {
		_, err := c.Analyze(ctx, AnalyzeRequest{Alert: Alert{Container: "slow"}})
		slow <- err
	}()
	for impl.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Stop()
	var rpcErr *RPCError
	if err := <-slow; !errors.As(err, &rpcErr) || rpcErr.Code != "Unavailable" {
		t.Fatalf("call cut by the plugin's end: %v, want Unavailable", err)
	}
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on the plugin's port: %v", err)
	}
	s2 := grpc.NewServer()
	pluginv1.RegisterAnalyzerServiceServer(s2, &analyzerServer{impl: impl})
	go s2.Serve(ln2)
	defer s2.Stop()
	// gRPC reconnects with a backoff: a call may fail fast until then.
	for {
		if _, err := c.Analyze(ctx, AnalyzeRequest{Alert: Alert{Container: "c"}}); err == nil {
			break
		} else if ctx.Err() != nil {
			t.Fatalf("no call succeeded after the plugin came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	analyzeAll(t, c, 10)
}
