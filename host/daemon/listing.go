package daemon

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/supervisor"
	"github.com/hemostat/hemostat/plugins/builtin"
)

// Listing is one line of `hemostatd plugins`.
type Listing struct {
	Role            string
	Name            string
	Source          string // "built-in" or the executable's path
	Version         string
	ProtocolVersion int
	SHA256          string
	Err             string
}

// ListPlugins lists the built-in plugins and those found in dir, asking each
// its version and protocol version by launching it.
func ListPlugins(ctx context.Context, dir, self string, log hclog.Logger) ([]Listing, []supervisor.Skipped, error) {
	opts := supervisor.Options{Logger: log, Self: self}
	var out []Listing
	probe := func(l Listing, spec supervisor.Spec) Listing {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		info, err := supervisor.Probe(pctx, opts, spec)
		if err != nil {
			l.Err = err.Error()
			return l
		}
		l.Version, l.ProtocolVersion = info.Version, info.ProtocolVersion
		return l
	}
	selfSum, _ := supervisor.FileSHA256(self)
	for _, e := range builtin.List() {
		l := Listing{Role: e.Role, Name: e.Name, Source: "built-in", SHA256: selfSum}
		out = append(out, probe(l, supervisor.Spec{Role: e.Role, Name: e.Name}))
	}
	found, warnings, err := supervisor.Discover(dir)
	if err != nil {
		return out, warnings, err
	}
	for _, f := range found {
		l := Listing{Role: f.Role, Name: f.Name, Source: f.Path, SHA256: f.SHA256}
		if f.Refused != "" {
			// Never executed, not even to ask its version.
			l.Err = "refused: " + f.Refused
			out = append(out, l)
			continue
		}
		out = append(out, probe(l, supervisor.Spec{Role: f.Role, Name: f.Name, Path: f.Path}))
	}
	return out, warnings, nil
}

// WriteListing prints a listing as an aligned table.
func WriteListing(w io.Writer, list []Listing) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tNAME\tVERSION\tPROTOCOL\tSOURCE\tSHA256")
	for _, l := range list {
		proto := fmt.Sprint(l.ProtocolVersion)
		if l.Err != "" {
			proto = "error: " + l.Err
		}
		sum := l.SHA256
		if len(sum) > 12 {
			sum = sum[:12]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Role, l.Name, l.Version, proto, l.Source, sum)
	}
	tw.Flush()
}
