package gate

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkCheck measures one Check in the situations the responder meets.
// "baseline" is the least any per-container stateful check costs — a map
// lookup under a mutex — so the others read as ratios of it.
func BenchmarkCheck(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		var mu sync.Mutex
		m := map[string]*containerState{"api": {}}
		var sink *containerState
		for b.Loop() {
			mu.Lock()
			sink = m["api"]
			mu.Unlock()
		}
		_ = sink
	})
	b.Run("allow", func(b *testing.B) {
		g, _ := newTestGate(DefaultPolicy())
		r := restart("api")
		for b.Loop() {
			g.Check(r)
		}
	})
	b.Run("reject_confidence", func(b *testing.B) {
		g, _ := newTestGate(DefaultPolicy())
		r := Request{Container: "api", Action: "restart", Confidence: 0.1}
		for b.Loop() {
			g.Check(r)
		}
	})
	b.Run("defer", func(b *testing.B) {
		g, _ := newTestGate(DefaultPolicy())
		g.Record("api", "restart", "failed")
		r := restart("api")
		for b.Loop() {
			g.Check(r)
		}
	})
	b.Run("escalate", func(b *testing.B) {
		g, _ := newTestGate(DefaultPolicy())
		for range 5 {
			g.Record("api", "restart", "failed")
		}
		r := restart("api")
		for b.Loop() {
			g.Check(r)
		}
	})
	b.Run("10_protected_globs", func(b *testing.B) {
		p := DefaultPolicy()
		for i := range 10 {
			p.Protected = append(p.Protected, fmt.Sprintf("*infra-%d*", i))
		}
		g, _ := newTestGate(p)
		r := restart("api")
		for b.Loop() {
			g.Check(r)
		}
	})
	b.Run("10000_containers", func(b *testing.B) {
		g, clock := newTestGate(DefaultPolicy())
		reqs := make([]Request, 10000)
		for i := range reqs {
			reqs[i] = restart(fmt.Sprintf("c%d", i))
			g.Record(reqs[i].Container, "restart", "success")
		}
		clock.Advance(time.Minute) // past the backoff: every check allows
		i := 0
		for b.Loop() {
			g.Check(reqs[i%len(reqs)])
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		g, _ := newTestGate(DefaultPolicy())
		for i := range 100 {
			g.Record(fmt.Sprintf("c%d", i), "restart", "success")
		}
		b.RunParallel(func(pb *testing.PB) {
			r := restart("c1")
			for pb.Next() {
				g.Check(r)
			}
		})
	})
}
