package supervisor

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/go-plugin"
	"github.com/hemostat/hemostat/internal/testplugins/scripted"
	"github.com/hemostat/hemostat/sdk"
)

// goPluginWords are go-plugin's and gRPC's explanations of a plugin that
// died, which must not stand in for the plugin's own.
var goPluginWords = []string{"Failed to read any lines", "compiled for this architecture", "error reading from server"}

// wantOwnWords checks that msg names the panic and not go-plugin's guess.
func wantOwnWords(t *testing.T, what, msg string, want ...string) {
	t.Helper()
	t.Logf("%s: %s", what, msg)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s %q does not name %q", what, msg, w)
		}
	}
	for _, w := range goPluginWords {
		if strings.Contains(msg, w) {
			t.Errorf("%s %q still gives go-plugin's explanation %q", what, msg, w)
		}
	}
}

func TestPanicInMainIsExplained(t *testing.T) {
	ctx := testContext(t)
	path := pluginBinary(t, "panicmain")
	spec := Spec{Role: sdk.RoleAnalyzer, Name: "broken", Path: path}

	_, err := newSupervisor(t, testOptions(t, sdk.NewMemoryHost())).Start(ctx, spec)
	if err == nil {
		t.Fatal("a plugin that panics in main started")
	}
	wantOwnWords(t, "Start's error", err.Error(), scripted.PanicMessage+" in main", "in main.main", "exit status 2")

	_, err = Probe(ctx, testOptions(t, nil), spec)
	if err == nil {
		t.Fatal("a plugin that panics in main was probed")
	}
	wantOwnWords(t, "Probe's error", err.Error(), scripted.PanicMessage+" in main", "in main.main")
}

func TestPanicInConfigureIsExplained(t *testing.T) {
	ctx := testContext(t)
	spec := Spec{Role: sdk.RoleAnalyzer, Name: "broken", Path: binaryFor(t, sdk.RoleAnalyzer),
		Config: json.RawMessage(`{"panic_in_configure": true}`)}
	_, err := newSupervisor(t, testOptions(t, sdk.NewMemoryHost())).Start(ctx, spec)
	if err == nil {
		t.Fatal("a plugin that panics in Configure started")
	}
	wantOwnWords(t, "Start's error", err.Error(), scripted.PanicMessage+" in Configure", ".Configure", "plugin analyzer.broken")
	// What the transport saw is still there for callers that ask.
	if errors.Is(err, plugin.ErrChecksumsDoNotMatch) || permanent(err) {
		t.Errorf("a crash is taken for a permanent failure: %v", err)
	}
}

func TestPanicOnCallShowsInStatus(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, testOptions(t, sdk.NewMemoryHost()))
	p, err := s.Start(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "crashy", Path: binaryFor(t, sdk.RoleAnalyzer),
		Config: json.RawMessage(`{"panic_on_call": 1}`)})
	if err != nil {
		t.Fatal(err)
	}
	old := p.Status().PID
	if _, err := analyze(ctx, p); err == nil {
		t.Fatal("a call that panicked the plugin succeeded")
	}
	st := runningAgain(t, p, old)
	wantOwnWords(t, "last_error", st.LastError, "the plugin crashed: panic: "+scripted.PanicMessage+" on call 1", "exit status 2")
}

// exitState runs a shell that exits as told and returns its state.
func exitState(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	_ = cmd.Run()
	return cmd
}

func TestStderrTailNote(t *testing.T) {
	exited := exitState(t, "exit 1").ProcessState
	killed := exitState(t, "kill -9 $$").ProcessState
	for _, tc := range []struct {
		name   string
		writes []string
		exited bool
		want   string
	}{
		{
			name: "panic split over writes, trace after it",
			writes: []string{`{"@level":"info","@message":"serving"}`, "\n", "panic: boom\n\n", "goroutine 1 [running]:\nmain.(*plugin).Configure(0xc0000a", "0, {0x1, 0x2})\n\t/src/main.go:12 +0x25\n",
				strings.Repeat("main.frame()\n\t/src/x.go:1\n", 40)},
			want: "the plugin crashed: panic: boom; in main.(*plugin).Configure (exit status 1)",
		},
		{
			name:   "nil dereference",
			writes: []string{"panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4]\n\ngoroutine 7 [running]:\nmain.handle(...)\n"},
			want:   "the plugin crashed: panic: runtime error: invalid memory address or nil pointer dereference; in main.handle (exit status 1)",
		},
		{
			name:   "exit without a panic quotes the last lines",
			writes: []string{"one\ntwo\n", `{"@level":"error","@message":"cannot listen","error":"address in use"}` + "\n", "four\n"},
			exited: true,
			want:   "the plugin exited (exit status 1); its last words on stderr: two | [error] cannot listen: address in use | four",
		},
		{
			name:   "killed without a panic says nothing",
			writes: []string{"serving\n"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tail stderrTail
			for _, w := range tc.writes {
				if n, err := tail.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			state := killed
			if tc.exited || strings.HasPrefix(tc.want, "the plugin crashed") {
				state = exited
			}
			if got := tail.note(state); got != tc.want {
				t.Errorf("note =\n%q, want\n%q", got, tc.want)
			}
		})
	}
}

func TestStderrTailIsBounded(t *testing.T) {
	var tail stderrTail
	long := strings.Repeat("x", 10*tailLineLen)
	for range 100 {
		tail.Write([]byte(long + "\n"))
	}
	tail.Write([]byte(long)) // no newline: an unfinished line
	if len(tail.lines) != tailLines || len(tail.lines[0]) != tailLineLen || len(tail.partial) != tailLineLen {
		t.Errorf("kept %d lines of %d bytes and a partial of %d, want %d of %d", len(tail.lines), len(tail.lines[0]), len(tail.partial), tailLines, tailLineLen)
	}
}
