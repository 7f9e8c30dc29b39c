package monitor

import (
	"path"

	"github.com/hemostat/hemostat/sdk"
)

// scopeFilter decides which containers the plugin reports.
type scopeFilter struct {
	optIn   bool
	exclude []string
	self    selfIdentity
}

// reported says whether the container with this ID, name (no leading "/")
// and labels is reported at all.
func (f scopeFilter) reported(id, name string, labels map[string]string) bool {
	if f.self.is(id) {
		return false
	}
	on, known := sdk.ParseSwitch(labels[LabelEnable])
	switch {
	case known && !on:
		return false
	case !on && f.optIn:
		return false
	}
	for _, g := range f.exclude {
		if ok, _ := path.Match(g, name); ok {
			return false
		}
	}
	return true
}
