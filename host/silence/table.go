package silence

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/hemostat/hemostat/host/logline"
)

// WriteTable prints silences for people, as `hemostatd silence list` does:
// active or expired at now. Silences live in Redis, which anyone with its
// password can write, so every text field is escaped (logline.Escape): it
// can neither break the table's lines nor reach the terminal as an escape
// sequence.
func WriteTable(w io.Writer, list []Silence, now time.Time) error {
	esc := logline.Escape
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCONTAINER\tEVENT\tENDS\tSTATE\tSILENCED\tBY\tCOMMENT")
	for _, s := range list {
		state := "expired"
		if s.Active(now) {
			state = "active"
		}
		ev := s.Event
		if ev == "" {
			ev = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", esc(s.ID), esc(s.Container), esc(ev),
			s.Ends.UTC().Format(time.RFC3339), state, s.Silenced, esc(s.CreatedBy), esc(s.Comment))
	}
	return tw.Flush()
}
