package role

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const poolWait = 10 * time.Second

func TestPoolKeepsOrderPerKey(t *testing.T) {
	p := newPool(8, 64, nil)
	var mu sync.Mutex
	got := map[string][]int{}
	var wg sync.WaitGroup
	for i := range 400 {
		key := fmt.Sprintf("c%d", i%5)
		wg.Add(1)
		if !p.do(context.Background(), key, func() {
			defer wg.Done()
			mu.Lock()
			got[key] = append(got[key], i)
			mu.Unlock()
		}) {
			t.Fatal("do refused work on an open pool")
		}
	}
	wg.Wait()
	p.close()
	for key, seq := range got {
		for j := 1; j < len(seq); j++ {
			if seq[j] < seq[j-1] {
				t.Fatalf("%s ran %v: out of order", key, seq)
			}
		}
		if len(seq) != 80 {
			t.Errorf("%s ran %d items, want 80", key, len(seq))
		}
	}
}

// TestPoolHungKeyHoldsOnlyItsWorker hangs one container's work: the other
// containers' work still runs, while items for the hung container wait
// behind it, never beside it.
func TestPoolHungKeyHoldsOnlyItsWorker(t *testing.T) {
	p := newPool(4, 64, nil)
	defer p.close()
	hang := make(chan struct{})
	var hungRunning atomic.Int32
	p.do(context.Background(), "hung", func() { hungRunning.Add(1); <-hang; hungRunning.Add(-1) })
	p.do(context.Background(), "hung", func() {
		if hungRunning.Load() != 0 {
			t.Error("second item of the hung key ran beside the first")
		}
	})
	done := make(chan struct{}, 40)
	for i := range 40 {
		p.do(context.Background(), fmt.Sprintf("c%d", i), func() { done <- struct{}{} })
	}
	for range 40 {
		select {
		case <-done:
		case <-time.After(poolWait):
			t.Fatal("other containers' work is held up by a hung one")
		}
	}
	close(hang)
}

// TestPoolFullWaits fills the pool: do waits for room instead of queuing
// without bound, and gives up when its context ends.
func TestPoolFullWaits(t *testing.T) {
	p := newPool(2, 4, nil)
	release := make(chan struct{})
	for i := range 4 {
		if !p.do(context.Background(), fmt.Sprintf("c%d", i), func() { <-release }) {
			t.Fatal("refused within capacity")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if p.do(ctx, "more", func() { t.Error("ran work that was refused") }) {
		t.Fatal("a full pool took more work")
	}
	accepted := make(chan bool, 1)
	go func() { accepted <- p.do(context.Background(), "later", func() {}) }()
	select {
	case <-accepted:
		t.Fatal("do returned while the pool was full")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case ok := <-accepted:
		if !ok {
			t.Fatal("do refused once there was room")
		}
	case <-time.After(poolWait):
		t.Fatal("do still waits after the pool drained")
	}
	p.close()
}

func TestPoolCloseRunsQueuedWorkAndRefusesNew(t *testing.T) {
	p := newPool(1, 16, nil)
	var ran atomic.Int32
	gate := make(chan struct{})
	p.do(context.Background(), "a", func() { <-gate; ran.Add(1) })
	for range 5 {
		p.do(context.Background(), "a", func() { ran.Add(1) })
	}
	closed := make(chan struct{})
	go func() { p.close(); close(closed) }()
	time.Sleep(10 * time.Millisecond)
	close(gate)
	select {
	case <-closed:
	case <-time.After(poolWait):
		t.Fatal("close did not return")
	}
	if ran.Load() != 6 {
		t.Errorf("ran %d of 6 queued items before close returned", ran.Load())
	}
	if p.do(context.Background(), "a", func() {}) {
		t.Error("a closed pool took work")
	}
}

func TestPoolSurvivesAPanic(t *testing.T) {
	p := newPool(1, 4, nil)
	done := make(chan struct{})
	p.do(context.Background(), "a", func() { panic("boom") })
	p.do(context.Background(), "a", func() { close(done) })
	select {
	case <-done:
	case <-time.After(poolWait):
		t.Fatal("the worker died with the panic")
	}
	p.close()
}

// TestPoolEnqueueNeverWaits: enqueue takes work beyond capacity (for a
// caller holding a lock the work needs), and the pool's accounting still
// lets do in once all of it has run.
func TestPoolEnqueueNeverWaits(t *testing.T) {
	p := newPool(1, 1, nil)
	defer p.close()
	release := make(chan struct{})
	var ran atomic.Int32
	p.do(context.Background(), "a", func() { <-release; ran.Add(1) })
	for range 10 {
		if !p.enqueue("b", func() { ran.Add(1) }) {
			t.Fatal("enqueue refused work on an open pool")
		}
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), poolWait)
	defer cancel()
	done := make(chan struct{})
	if !p.do(ctx, "c", func() { close(done) }) {
		t.Fatal("do found no room after the enqueued work")
	}
	<-done
	if ran.Load() != 11 {
		t.Errorf("ran %d of 11 items", ran.Load())
	}
}

func TestPoolWaitRoom(t *testing.T) {
	p := newPool(1, 2, nil)
	defer p.close()
	release := make(chan struct{})
	p.do(context.Background(), "a", func() { <-release })
	p.do(context.Background(), "b", func() {})
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if p.waitRoom(short) {
		t.Fatal("waitRoom found room in a full pool")
	}
	close(release)
	ctx, cancel2 := context.WithTimeout(context.Background(), poolWait)
	defer cancel2()
	if !p.waitRoom(ctx) {
		t.Fatal("waitRoom found no room once the work was done")
	}
	// It takes no room itself: the pool still holds two items.
	p.do(ctx, "c", func() {})
	p.do(ctx, "d", func() {})
}
