package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/inspect"
)

// inspectFlags are what status and events share: where Redis is.
type inspectFlags struct {
	fs     *flag.FlagSet
	config *string
	redis  *string
}

func newInspectFlags(name string, stderr io.Writer) inspectFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return inspectFlags{
		fs:     fs,
		config: fs.String("config", "", "HCL config file: its redis block and data_dir"),
		redis:  fs.String("redis", "", "Redis host:port (default: the config's, else the running daemon's embedded Redis)"),
	}
}

// connect opens the Redis the flags name; on failure it has printed why.
func (f inspectFlags) connect(ctx context.Context, stderr io.Writer) (inspect.Target, func(), redis.UniversalClient, bool) {
	cfg, err := loadConfig(*f.config)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return inspect.Target{}, nil, nil, false
	}
	t, err := inspect.Resolve(cfg, *f.redis)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return t, nil, nil, false
	}
	c, closer, err := inspect.Connect(ctx, cfg, t)
	if err != nil {
		fmt.Fprintf(stderr, "redis unreachable: %v\n", err)
		return t, nil, nil, false
	}
	return t, func() { closer.Close() }, c, true
}

// statusCmd prints what Redis says about the daemons and containers.
func statusCmd(args []string, stdout, stderr io.Writer) int {
	f := newInspectFlags("status", stderr)
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	t, closeFn, c, ok := f.connect(ctx, stderr)
	if !ok {
		return 1
	}
	defer closeFn()
	st, err := inspect.ReadStatus(ctx, c, t)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := st.Write(stdout, time.Now()); err != nil {
		return 1
	}
	return 0
}

// eventsCmd prints the event logs' envelopes and, with -follow, the ones
// published after.
func eventsCmd(args []string, stdout, stderr io.Writer) int {
	f := newInspectFlags("events", stderr)
	typ := f.fs.String("type", "", "only this event type")
	container := f.fs.String("container", "", "only this container")
	limit := f.fs.Int("n", 50, "print at most the newest n logged events (0: all)")
	follow := f.fs.Bool("follow", false, "then print events as they are published, until interrupted")
	raw := f.fs.Bool("json", false, "print each envelope as published, one per line")
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	filter := inspect.Filter{Type: *typ, Container: *container}
	if _, err := filter.Types(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, closeFn, c, ok := f.connect(ctx, stderr)
	if !ok {
		return 1
	}
	defer closeFn()
	show := func(e inspect.Event) {
		if *raw {
			fmt.Fprintf(stdout, "%s\n", e.Raw)
			return
		}
		fmt.Fprintln(stdout, e.Line())
	}
	backlog := func() error {
		list, err := inspect.Recent(ctx, c, filter, *limit)
		for _, e := range list {
			show(e)
		}
		return err
	}
	if !*follow {
		if err := backlog(); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	// Subscribed before the logs are read, so that nothing published in
	// between is missed; what both show is printed once (a log holds the
	// envelopes byte for byte as published).
	seen := map[string]bool{}
	var berr error
	ready := func() {
		list, err := inspect.Recent(ctx, c, filter, *limit)
		berr = err
		for _, e := range list {
			seen[string(e.Raw)] = true
			show(e)
		}
	}
	err := inspect.Follow(ctx, c, filter, ready, func(e inspect.Event) {
		if seen[string(e.Raw)] {
			delete(seen, string(e.Raw))
			return
		}
		show(e)
	})
	if err == nil {
		err = berr
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
