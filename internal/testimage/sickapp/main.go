package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// defaultHealthFile is where the healthy marker lives unless told otherwise;
// the image is FROM scratch, so sickapp creates the directory itself.
const defaultHealthFile = "/tmp/healthy"

type options struct {
	idle           bool
	cpu            int
	spike          time.Duration
	memMBPerSec    int
	allocMB        int
	exitCode       int
	lastWords      string
	exitAfter      time.Duration
	exitSet        bool
	exitOnce       string
	logs           []string
	healthFile     string
	unhealthyAfter time.Duration
}

type lines []string

func (l *lines) String() string     { return fmt.Sprint(*l) }
func (l *lines) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if len(os.Args) > 1 && os.Args[1] == "health" {
		os.Exit(health(os.Args[2:]))
	}
	opts, err := parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "sickapp:", err)
		os.Exit(2)
	}
	os.Exit(run(opts))
}

func parse(args []string) (options, error) {
	var o options
	var logs lines
	fs := flag.NewFlagSet("sickapp", flag.ContinueOnError)
	fs.BoolVar(&o.idle, "idle", false, "do nothing until SIGTERM (the default when no other flag is given)")
	fs.IntVar(&o.cpu, "cpu", 0, "burn this many cores")
	fs.DurationVar(&o.spike, "spike", 0, "burn one core for this long, then idle")
	fs.IntVar(&o.memMBPerSec, "mem-mb-per-sec", 0, "grow resident memory by this many MiB per second")
	fs.IntVar(&o.allocMB, "alloc-mb", 0, "allocate and touch this many MiB at once")
	fs.IntVar(&o.exitCode, "exit", 0, "exit with this code (after --after)")
	fs.DurationVar(&o.exitAfter, "after", 0, "delay before --exit")
	fs.StringVar(&o.exitOnce, "exit-once", "", "exit as --exit says only when this marker file is absent, creating it: a crash that one restart cures (the container's files outlive a restart)")
	fs.Var(&logs, "log", "print this line to stdout at start (repeatable)")
	fs.StringVar(&o.lastWords, "last-words", "", "print this line to stderr right before --exit, as a crash's message is")
	fs.StringVar(&o.healthFile, "health-file", "", "create this file as the healthy marker")
	fs.DurationVar(&o.unhealthyAfter, "unhealthy-after", 0, "remove the healthy marker after this long")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "exit" {
			o.exitSet = true
		}
	})
	if o.cpu < 0 || o.memMBPerSec < 0 || o.allocMB < 0 {
		return o, fmt.Errorf("--cpu, --mem-mb-per-sec and --alloc-mb must not be negative")
	}
	if o.unhealthyAfter > 0 && o.healthFile == "" {
		o.healthFile = defaultHealthFile
	}
	o.logs = logs
	return o, nil
}

func run(o options) int {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)

	for _, l := range o.logs {
		fmt.Println(l)
	}
	if o.healthFile != "" {
		if err := markHealthy(o.healthFile); err != nil {
			fmt.Fprintln(os.Stderr, "sickapp:", err)
			return 2
		}
		if o.unhealthyAfter > 0 {
			time.AfterFunc(o.unhealthyAfter, func() { os.Remove(o.healthFile) })
		}
	}
	for range o.cpu {
		go burn(nil)
	}
	if o.spike > 0 {
		done := make(chan struct{})
		time.AfterFunc(o.spike, func() { close(done) })
		go burn(done)
	}
	if o.allocMB > 0 {
		hold(touched(o.allocMB << 20))
	}
	if o.memMBPerSec > 0 {
		go growSteadily(o.memMBPerSec)
	}

	var exit <-chan time.Time
	if o.exitSet && firstRun(o.exitOnce) {
		exit = time.After(o.exitAfter)
	}
	select {
	case <-stop:
		return 0
	case <-exit:
		if o.lastWords != "" {
			fmt.Fprintln(os.Stderr, o.lastWords)
		}
		return o.exitCode
	}
}

// burn spins until done is closed (forever when done is nil).
func burn(done <-chan struct{}) {
	runtime.LockOSThread()
	for x := uint64(1); ; x = x*6364136223846793005 + 1 {
		if x&0xffff == 0 {
			select {
			case <-done:
				return
			default:
			}
		}
	}
}

// kept holds every allocation so that the garbage collector never frees it.
var kept [][]byte

func hold(b []byte) { kept = append(kept, b) }

// touched allocates n bytes and writes to every page so that they are
// resident, not merely reserved.
func touched(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

func growSteadily(mbPerSec int) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	perTick := (mbPerSec << 20) / 10
	for range t.C {
		hold(touched(perTick))
	}
}

// firstRun reports whether the container runs for the first time by the
// marker file, creating it; with no marker every run is the first.
func firstRun(marker string) bool {
	if marker == "" {
		return true
	}
	if _, err := os.Stat(marker); err == nil {
		return false
	}
	return markHealthy(marker) == nil
}

func markHealthy(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte("ok\n"), 0o644)
}

// health is the HEALTHCHECK: healthy while the marker file exists.
func health(args []string) int {
	fs := flag.NewFlagSet("sickapp health", flag.ContinueOnError)
	file := fs.String("health-file", defaultHealthFile, "the healthy marker")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, err := os.Stat(*file); err != nil {
		fmt.Println("unhealthy:", err)
		return 1
	}
	fmt.Println("healthy")
	return 0
}
