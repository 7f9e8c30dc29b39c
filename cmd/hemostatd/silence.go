package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hemostat/hemostat/host/httpapi"
	"github.com/hemostat/hemostat/host/silence"
)

const silenceUsage = `Usage:
  hemostatd silence add -container GLOB [-event TYPE|KIND] (-for 2h | -until TIME) [-comment TEXT]
  hemostatd silence list [-json]
  hemostatd silence expire ID
Every subcommand takes -config FILE (the daemon's HTTP address and token),
-addr HOST:PORT and -token (default $HEMOSTAT_TOKEN) to override them.
`

// silenceCmd manages silences through the running daemon's API.
func silenceCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, silenceUsage)
		return 2
	}
	fs := flag.NewFlagSet("silence "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "HCL config file: where the daemon's API listens")
	addr := fs.String("addr", "", "the daemon's HTTP address (default: the config's http.address)")
	token := fs.String("token", os.Getenv("HEMOSTAT_TOKEN"), "API token (default $HEMOSTAT_TOKEN, else the config's)")
	container := fs.String("container", "", "container name or glob")
	event := fs.String("event", "", "only this event type or notification kind")
	dur := fs.Duration("for", 0, "how long, such as 2h")
	until := fs.String("until", "", "end time, RFC 3339")
	comment := fs.String("comment", "", "why")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *addr == "" {
		*addr = cfg.HTTP.Address
	}
	if *token == "" {
		*token = cfg.HTTP.Token
	}
	client := httpapi.NewClient(*addr, *token)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	switch args[0] {
	case "add":
		req := httpapi.SilenceRequest{Container: *container, Event: *event, Comment: *comment, CreatedBy: "cli"}
		if u := os.Getenv("USER"); u != "" {
			req.CreatedBy = "cli:" + u
		}
		switch {
		case *until != "" && *dur != 0:
			fmt.Fprintln(stderr, "silence add: set -for or -until, not both")
			return 2
		case *until != "":
			if req.EndsAt, err = time.Parse(time.RFC3339, *until); err != nil {
				fmt.Fprintf(stderr, "silence add: -until %q is not an RFC 3339 time such as 2027-01-31T18:00:00Z\n", *until)
				return 2
			}
		case *dur > 0:
			req.Duration = dur.String()
		default:
			fmt.Fprintln(stderr, "silence add: -for or -until is required")
			return 2
		}
		s, err := client.AddSilence(ctx, req)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, s.ID)
	case "list":
		list, err := client.Silences(ctx)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(list)
			return 0
		}
		_ = silence.WriteTable(stdout, list, time.Now())
	case "expire":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "silence expire: one silence ID is required")
			return 2
		}
		s, err := client.ExpireSilence(ctx, fs.Arg(0))
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s expired at %s\n", s.ID, s.Ends.UTC().Format(time.RFC3339))
	default:
		fmt.Fprint(stderr, silenceUsage)
		return 2
	}
	return 0
}
