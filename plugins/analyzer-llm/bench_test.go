package llm

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// BenchmarkAddedLatency measures what the analyzer adds to the provider's
// own response time: Analyze against a fake that answers after 200 ms,
// against a bare HTTP POST of the same request to the same fake.
func BenchmarkAddedLatency(b *testing.B) {
	for _, provider := range []string{ProviderOpenAI, ProviderAnthropic} {
		b.Run(provider, func(b *testing.B) {
			f := newFakeModel(b, provider, always(fakeAnswer{text: goodReply, delay: 200 * time.Millisecond}))
			a := newTestAnalyzer(b, f, map[string]any{"reuse_window": "0s", "max_calls_per_hour": 1_000_000})
			req := crashAlert("api", canaryLog()...)
			analyze(b, a, req, 10*time.Second) // warm the connection; keeps the body
			body := f.requests()[0]
			path := "/v1/chat/completions"
			if provider == ProviderAnthropic {
				path = "/v1/messages"
			}
			client := &http.Client{}
			var full, base []time.Duration
			for b.Loop() {
				start := time.Now()
				if d := analyze(b, a, req, 10*time.Second); d.Verdict != sdk.VerdictRemediate {
					b.Fatalf("decision %+v", d)
				}
				full = append(full, time.Since(start))
				start = time.Now()
				resp, err := client.Post(f.srv.URL+path, "application/json", bytes.NewReader([]byte(body)))
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				base = append(base, time.Since(start))
			}
			reportAdded(b, full, base)
		})
	}
}

func reportAdded(b *testing.B, full, base []time.Duration) {
	p := func(ds []time.Duration, q int) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[min(len(s)-1, len(s)*q/100)]
	}
	b.ReportMetric(float64(p(full, 50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(p(full, 99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(p(base, 50).Microseconds()), "baseline-p50-µs")
	b.ReportMetric(float64(p(base, 99).Microseconds()), "baseline-p99-µs")
	b.ReportMetric(float64((p(full, 50) - p(base, 50)).Microseconds()), "added-p50-µs")
}

// BenchmarkConcurrency sends 100 alerts for 100 containers at once to a
// fake that takes 1 s a call: the total is about 100/concurrency seconds.
func BenchmarkConcurrency(b *testing.B) {
	for _, concurrency := range []int{8, 25} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			f := newFakeModel(b, ProviderOpenAI, always(fakeAnswer{text: goodReply, delay: time.Second}))
			a := newTestAnalyzer(b, f, map[string]any{"concurrency": concurrency, "max_calls_per_hour": 1_000_000})
			for b.Loop() {
				start := time.Now()
				var wg sync.WaitGroup
				for i := range 100 {
					wg.Go(func() {
						req := crashAlert(fmt.Sprintf("c%d-%d", i, time.Now().UnixNano()))
						if d := analyze(b, a, req, 60*time.Second); d.Verdict != sdk.VerdictRemediate {
							b.Errorf("decision %+v", d)
						}
					})
				}
				wg.Wait()
				total := time.Since(start)
				b.ReportMetric(total.Seconds(), "total-s")
				b.ReportMetric(total.Seconds()/(100/float64(concurrency)), "x-ideal")
			}
		})
	}
}
