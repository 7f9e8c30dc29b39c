package sdk

import (
	"context"
	"errors"
	"sync"
	"time"

	pluginv1 "github.com/hemostat/hemostat/proto/hemostat/plugin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxStreamBatch bounds the calls, or results, one AnalyzeStream frame
// carries.
const maxStreamBatch = 256

// AnalyzeStream serves the batched stream: each call runs in a goroutine
// of its own while it runs, exactly as a unary Analyze would, and its
// result goes back with whatever else is done by then.
func (s *analyzerServer) AnalyzeStream(stream pluginv1.AnalyzerService_AnalyzeStreamServer) error {
	ctx := stream.Context()
	results := make(chan *pluginv1.AnalyzeResult, maxStreamBatch)
	sent := make(chan error, 1)
	go func() {
		var err error
		for r := range results {
			if err != nil {
				continue // the host is gone; let the calls finish
			}
			batch := []*pluginv1.AnalyzeResult{r}
		more:
			for len(batch) < maxStreamBatch {
				select {
				case r, ok := <-results:
					if !ok {
						break more
					}
					batch = append(batch, r)
				default:
					break more
				}
			}
			err = stream.Send(&pluginv1.AnalyzeStreamResponse{Results: batch})
		}
		sent <- err
	}()
	var calls sync.WaitGroup
	idle := make(chan *pluginv1.AnalyzeCall) // to a runner with nothing to do
	ended := make(chan struct{})
	var recvErr error
	for {
		in, err := stream.Recv()
		if err != nil {
			recvErr = err
			break
		}
		for _, c := range in.GetCalls() {
			calls.Add(1)
			select {
			case idle <- c:
			default:
				go s.runCalls(ctx, c, idle, ended, results, &calls)
			}
		}
	}
	calls.Wait()
	close(ended)
	close(results)
	if err := <-sent; err != nil {
		return err
	}
	if recvErr != nil && !errors.Is(recvErr, context.Canceled) && status.Code(recvErr) != codes.Canceled && recvErr.Error() != "EOF" {
		return recvErr
	}
	return nil
}

// runnerIdle is how long a stream's runner waits for another call before
// it ends.
const runnerIdle = time.Second

// runCalls runs c, then the calls handed to it through idle while it has
// nothing to do, until it has waited runnerIdle or the stream has ended.
// A runner's stack, grown by decoding the first call, serves the next
// ones as it is: a fresh goroutine per call grew a fresh stack each time,
// a tenth of a plugin's CPU in a burst.
func (s *analyzerServer) runCalls(ctx context.Context, c *pluginv1.AnalyzeCall, idle <-chan *pluginv1.AnalyzeCall,
	ended <-chan struct{}, results chan<- *pluginv1.AnalyzeResult, calls *sync.WaitGroup) {
	wait := time.NewTimer(runnerIdle)
	defer wait.Stop()
	for {
		results <- s.call(ctx, c)
		calls.Done()
		wait.Reset(runnerIdle)
		select {
		case c = <-idle:
		case <-wait.C:
			return
		case <-ended:
			return
		}
	}
}

// call runs one call of the stream as Analyze would run it.
func (s *analyzerServer) call(ctx context.Context, c *pluginv1.AnalyzeCall) *pluginv1.AnalyzeResult {
	if d := c.GetDeadlineUnixNano(); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, d))
		defer cancel()
	}
	resp, err := s.Analyze(ctx, c.GetRequest())
	if err != nil {
		// As gRPC reports a unary handler's context errors.
		st := status.Convert(err)
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			st = status.FromContextError(err)
		}
		return &pluginv1.AnalyzeResult{Id: c.GetId(), ErrorCode: uint32(st.Code()), ErrorMessage: st.Message()}
	}
	return &pluginv1.AnalyzeResult{Id: c.GetId(), Decision: resp.GetDecision()}
}

// analyzeMux sends a client's Analyze calls over one AnalyzeStream,
// opened at the first call and again after it breaks. Calls that are
// waiting when the sender is free go out in one frame, so a burst's
// calls share frames and syscalls, while a lone call goes at once.
type analyzeMux struct {
	client pluginv1.AnalyzerServiceClient

	mu          sync.Mutex
	unsupported bool // the plugin predates AnalyzeStream: use Analyze
	cur         *analyzeConn
	nextID      uint64
}

// errNoStream tells a call that the plugin cannot stream and that it was
// not judged, so that it goes by Analyze instead.
var errNoStream = errors.New("sdk: the plugin has no AnalyzeStream")

type analyzeConn struct {
	stream pluginv1.AnalyzerService_AnalyzeStreamClient
	cancel context.CancelFunc
	queue  chan *pluginv1.AnalyzeCall
	done   chan struct{} // closed once broken; err says why

	mu      sync.Mutex
	pending map[uint64]chan *pluginv1.AnalyzeResult
	err     error
}

// analyze sends req and waits for its result, or ctx. It returns
// errNoStream when the plugin cannot stream.
func (m *analyzeMux) analyze(ctx context.Context, req *pluginv1.AnalyzeRequest) (*pluginv1.Decision, error) {
	conn, id, err := m.conn()
	if err != nil {
		return nil, err
	}
	call := &pluginv1.AnalyzeCall{Id: id, Request: req}
	if d, ok := ctx.Deadline(); ok {
		call.DeadlineUnixNano = d.UnixNano()
	}
	ch := make(chan *pluginv1.AnalyzeResult, 1)
	conn.mu.Lock()
	if conn.err != nil {
		conn.mu.Unlock()
		return nil, conn.err
	}
	conn.pending[id] = ch
	conn.mu.Unlock()
	forget := func() {
		conn.mu.Lock()
		delete(conn.pending, id)
		conn.mu.Unlock()
	}
	select {
	case conn.queue <- call:
	case <-conn.done:
		forget()
		return nil, conn.failure()
	case <-ctx.Done():
		forget()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	select {
	case r := <-ch:
		if r == nil {
			return nil, conn.failure()
		}
		if r.GetErrorCode() != uint32(codes.OK) {
			return nil, status.Error(codes.Code(r.GetErrorCode()), r.GetErrorMessage())
		}
		return r.GetDecision(), nil
	case <-ctx.Done():
		forget()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

// conn returns the open stream, opening one if there is none, and a new
// call id.
func (m *analyzeMux) conn() (*analyzeConn, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unsupported {
		return nil, 0, errNoStream
	}
	m.nextID++
	if m.cur != nil {
		select {
		case <-m.cur.done:
		default:
			return m.cur, m.nextID, nil
		}
	}
	// The stream outlives any one call's context; it ends when it
	// breaks, or with the plugin's connection.
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := m.client.AnalyzeStream(ctx)
	if err != nil {
		cancel()
		return nil, 0, err
	}
	c := &analyzeConn{
		stream: stream, cancel: cancel,
		queue:   make(chan *pluginv1.AnalyzeCall, maxStreamBatch),
		done:    make(chan struct{}),
		pending: map[uint64]chan *pluginv1.AnalyzeResult{},
	}
	m.cur = c
	go c.send()
	go c.receive(m)
	return c, m.nextID, nil
}

// send writes the queued calls, as many a frame as are waiting.
func (c *analyzeConn) send() {
	for {
		var first *pluginv1.AnalyzeCall
		select {
		case first = <-c.queue:
		case <-c.done:
			return
		}
		batch := []*pluginv1.AnalyzeCall{first}
	more:
		for len(batch) < maxStreamBatch {
			select {
			case call := <-c.queue:
				batch = append(batch, call)
			default:
				break more
			}
		}
		if err := c.stream.Send(&pluginv1.AnalyzeStreamRequest{Calls: batch}); err != nil {
			// Recv tells why; the receiver breaks the connection.
			return
		}
	}
}

// receive hands each result to its call until the stream ends, then
// fails the calls still waiting.
func (c *analyzeConn) receive(m *analyzeMux) {
	for {
		in, err := c.stream.Recv()
		if err != nil {
			c.breakWith(m, err)
			return
		}
		c.mu.Lock()
		for _, r := range in.GetResults() {
			if ch, ok := c.pending[r.GetId()]; ok {
				delete(c.pending, r.GetId())
				ch <- r
			}
		}
		c.mu.Unlock()
	}
}

// breakWith ends the connection: a plugin without AnalyzeStream sends
// every call, now and later, to Analyze; any other end makes the calls
// waiting fail as Unavailable — the plugin went away with them — and the
// next call opens a new stream.
func (c *analyzeConn) breakWith(m *analyzeMux, err error) {
	if status.Code(err) == codes.Unimplemented {
		m.mu.Lock()
		m.unsupported = true
		m.mu.Unlock()
		err = errNoStream
	} else {
		err = status.Errorf(codes.Unavailable, "analyze stream: %v", err)
	}
	c.mu.Lock()
	c.err = err
	for id, ch := range c.pending {
		delete(c.pending, id)
		ch <- nil
	}
	c.mu.Unlock()
	close(c.done)
	c.cancel()
}

func (c *analyzeConn) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
