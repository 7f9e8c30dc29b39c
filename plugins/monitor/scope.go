package monitor

import (
	"path"
	"strings"
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
	switch strings.ToLower(strings.TrimSpace(labels[LabelEnable])) {
	case "false", "0", "no":
		return false
	case "true", "1", "yes":
	default:
		if f.optIn {
			return false
		}
	}
	for _, g := range f.exclude {
		if ok, _ := path.Match(g, name); ok {
			return false
		}
	}
	return true
}
