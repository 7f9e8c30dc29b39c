package sdk

import (
	"encoding/json"
	"time"

	pluginv1 "github.com/hemostat/hemostat/proto/hemostat/plugin/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Conversions between the SDK's plain Go types and their wire form. Zero
// times travel as nil so that "unset" survives the round trip.

func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func timeFromProto(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

func sampleToProto(s Sample) *pluginv1.Sample {
	return &pluginv1.Sample{
		Container:          s.Container,
		Id:                 s.ID,
		Image:              s.Image,
		Status:             s.Status,
		Time:               timeToProto(s.Time),
		CpuPct:             s.CPUPct,
		MemoryPct:          s.MemoryPct,
		MemoryUsage:        s.MemoryUsage,
		MemoryLimit:        s.MemoryLimit,
		MemoryLimitIsHost:  s.MemoryLimitIsHost,
		Event:              s.Event,
		ExitCode:           int32(s.ExitCode),
		OomKilled:          s.OOMKilled,
		Health:             s.Health,
		RestartCount:       int32(s.RestartCount),
		StartedAt:          timeToProto(s.StartedAt),
		FinishedAt:         timeToProto(s.FinishedAt),
		RestartPolicy:      s.RestartPolicy,
		StopRequested:      s.StopRequested,
		RestartingByDocker: s.RestartingByDocker,
		Labels:             s.Labels,
		LogTail:            s.LogTail,
	}
}

func sampleFromProto(p *pluginv1.Sample) Sample {
	if p == nil {
		return Sample{}
	}
	return Sample{
		Container:          p.GetContainer(),
		ID:                 p.GetId(),
		Image:              p.GetImage(),
		Status:             p.GetStatus(),
		Time:               timeFromProto(p.GetTime()),
		CPUPct:             p.GetCpuPct(),
		MemoryPct:          p.GetMemoryPct(),
		MemoryUsage:        p.GetMemoryUsage(),
		MemoryLimit:        p.GetMemoryLimit(),
		MemoryLimitIsHost:  p.GetMemoryLimitIsHost(),
		Event:              p.GetEvent(),
		ExitCode:           int(p.GetExitCode()),
		OOMKilled:          p.GetOomKilled(),
		Health:             p.GetHealth(),
		RestartCount:       int(p.GetRestartCount()),
		StartedAt:          timeFromProto(p.GetStartedAt()),
		FinishedAt:         timeFromProto(p.GetFinishedAt()),
		RestartPolicy:      p.GetRestartPolicy(),
		StopRequested:      p.GetStopRequested(),
		RestartingByDocker: p.GetRestartingByDocker(),
		Labels:             p.GetLabels(),
		LogTail:            p.GetLogTail(),
	}
}

func samplesToProto(ss []Sample) []*pluginv1.Sample {
	out := make([]*pluginv1.Sample, len(ss))
	for i, s := range ss {
		out[i] = sampleToProto(s)
	}
	return out
}

func samplesFromProto(ps []*pluginv1.Sample) []Sample {
	out := make([]Sample, len(ps))
	for i, p := range ps {
		out[i] = sampleFromProto(p)
	}
	return out
}

func alertToProto(a Alert) (*pluginv1.Alert, error) {
	metrics, err := json.Marshal(a.Metrics)
	if err != nil {
		return nil, err
	}
	p := &pluginv1.Alert{
		Container:   a.Container,
		Issues:      a.Issues,
		MetricsJson: metrics,
		Time:        timeToProto(a.Time),
	}
	if a.Sample != nil {
		p.Sample = sampleToProto(*a.Sample)
	}
	return p, nil
}

func alertFromProto(p *pluginv1.Alert) (Alert, error) {
	a := Alert{
		Container: p.GetContainer(),
		Issues:    p.GetIssues(),
		Time:      timeFromProto(p.GetTime()),
	}
	if raw := p.GetMetricsJson(); len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.Metrics); err != nil {
			return Alert{}, err
		}
	}
	if p.GetSample() != nil {
		s := sampleFromProto(p.GetSample())
		a.Sample = &s
	}
	return a, nil
}

func remediationsToProto(rs []Remediation) []*pluginv1.Remediation {
	out := make([]*pluginv1.Remediation, len(rs))
	for i, r := range rs {
		out[i] = &pluginv1.Remediation{Time: timeToProto(r.Time), Action: r.Action, Status: r.Status, Reason: r.Reason}
	}
	return out
}

func remediationsFromProto(ps []*pluginv1.Remediation) []Remediation {
	out := make([]Remediation, len(ps))
	for i, p := range ps {
		out[i] = Remediation{Time: timeFromProto(p.GetTime()), Action: p.GetAction(), Status: p.GetStatus(), Reason: p.GetReason()}
	}
	return out
}

func decisionToProto(d Decision) *pluginv1.Decision {
	p := &pluginv1.Decision{
		Verdict: d.Verdict, Action: d.Action, Reason: d.Reason, Confidence: d.Confidence, Analyzer: d.Analyzer,
		RootCause: d.RootCause, FallbackReason: d.FallbackReason, Severity: d.Severity,
	}
	if d.Shadow != nil {
		p.Shadow = decisionToProto(*d.Shadow)
	}
	return p
}

func decisionFromProto(p *pluginv1.Decision) Decision {
	d := Decision{
		Verdict: p.GetVerdict(), Action: p.GetAction(), Reason: p.GetReason(), Confidence: p.GetConfidence(), Analyzer: p.GetAnalyzer(),
		RootCause: p.GetRootCause(), FallbackReason: p.GetFallbackReason(), Severity: p.GetSeverity(),
	}
	if p.GetShadow() != nil {
		s := decisionFromProto(p.GetShadow())
		s.Shadow = nil // one level: a shadow of a shadow means nothing
		d.Shadow = &s
	}
	return d
}

func resultToProto(r Result) *pluginv1.Result {
	p := &pluginv1.Result{Status: r.Status, Error: r.Error, StateAfter: r.StateAfter, Details: r.Details}
	if r.Duration != 0 {
		p.Duration = durationpb.New(r.Duration)
	}
	return p
}

func resultFromProto(p *pluginv1.Result) Result {
	r := Result{Status: p.GetStatus(), Error: p.GetError(), StateAfter: p.GetStateAfter(), Details: p.GetDetails()}
	if p.GetDuration() != nil {
		r.Duration = p.GetDuration().AsDuration()
	}
	return r
}

func notificationToProto(n Notification) *pluginv1.Notification {
	p := &pluginv1.Notification{
		Type: n.Type, Kind: n.Kind, Severity: n.Severity, Container: n.Container, Host: n.Host,
		Title: n.Title, Text: n.Text, Time: timeToProto(n.Time), EventJson: n.Event,
		Action: n.Action, Status: n.Status, Reason: n.Reason, Error: n.Error, Confidence: n.Confidence,
		Analyzer: n.Analyzer, Fallback: n.Fallback, DryRun: n.DryRun, Count: uint32(max(n.Count, 0)),
	}
	if !n.FirstTime.IsZero() {
		p.FirstTime = timeToProto(n.FirstTime)
	}
	for _, f := range n.Figures {
		p.Figures = append(p.Figures, &pluginv1.Figure{Name: f.Name, Value: f.Value})
	}
	for _, it := range n.Summary {
		p.Summary = append(p.Summary, &pluginv1.SummaryItem{
			Container: it.Container, Host: it.Host, Kind: it.Kind, Severity: it.Severity, Title: it.Title, Count: uint32(max(it.Count, 0)),
		})
	}
	return p
}

func notificationFromProto(p *pluginv1.Notification) Notification {
	n := Notification{
		Type: p.GetType(), Kind: p.GetKind(), Severity: p.GetSeverity(), Container: p.GetContainer(), Host: p.GetHost(),
		Title: p.GetTitle(), Text: p.GetText(), Time: timeFromProto(p.GetTime()), Event: p.GetEventJson(),
		Action: p.GetAction(), Status: p.GetStatus(), Reason: p.GetReason(), Error: p.GetError(), Confidence: p.GetConfidence(),
		Analyzer: p.GetAnalyzer(), Fallback: p.GetFallback(), DryRun: p.GetDryRun(), Count: int(p.GetCount()),
	}
	if p.GetFirstTime() != nil {
		n.FirstTime = timeFromProto(p.GetFirstTime())
	}
	for _, f := range p.GetFigures() {
		n.Figures = append(n.Figures, Figure{Name: f.GetName(), Value: f.GetValue()})
	}
	for _, it := range p.GetSummary() {
		n.Summary = append(n.Summary, SummaryItem{
			Container: it.GetContainer(), Host: it.GetHost(), Kind: it.GetKind(), Severity: it.GetSeverity(), Title: it.GetTitle(), Count: int(it.GetCount()),
		})
	}
	return n
}
