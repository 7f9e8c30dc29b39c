package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// proc is a private process table in /proc's layout: pid → comm and the
// NUL-separated command line.
type proc map[int][]string

func (p proc) write(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for pid, argv := range p {
		d := filepath.Join(dir, strconv.Itoa(pid))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		comm := filepath.Base(argv[0])
		cmdline := strings.Join(argv, "\x00") + "\x00"
		if err := os.WriteFile(filepath.Join(d, "comm"), []byte(comm+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "cmdline"), []byte(cmdline), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Not processes: the check must pass them by.
	for _, name := range []string{"self", "sys"} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeDocker puts a docker client on PATH whose `docker ps` prints psOut
// (one container a line) and exits with code.
func fakeDocker(t *testing.T, psOut string, code int) string {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "ps.out")
	if err := os.WriteFile(out, []byte(psOut), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\n[ \"$1\" = ps ] || exit 64\ncat '" + out + "'\nexit " + strconv.Itoa(code) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runCheck runs healers.sh's other_healers as scripts/test.sh does, with
// errexit and pipefail on, and returns its output and exit code.
func runCheck(t *testing.T, procDir, dockerDir string) (string, int) {
	t.Helper()
	cmd := exec.Command("bash", "-c", "set -euo pipefail; source ./healers.sh; other_healers")
	cmd.Env = append(os.Environ(), "HEMOSTAT_PROC="+procDir, "PATH="+dockerDir+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run the check: %v", err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}

func TestOtherHealers(t *testing.T) {
	bystanders := proc{
		1:   {"/sbin/init"},
		40:  {"/usr/bin/dockerd", "-H", "unix:///var/run/docker.sock"},
		41:  {"/usr/local/bin/hemostatd", "plugin", "monitor"},
		42:  {"/usr/local/bin/hemostatd", "status"},
		43:  {"/usr/local/bin/hemostatd", "events", "-follow"},
		44:  {"/usr/local/bin/hemostatd", "validate", "-config", "hemostat.hcl"},
		45:  {"/usr/bin/redis-server", "127.0.0.1:6379"},
		46:  {"/usr/bin/vim", "hemostatd"},
		100: {"/usr/local/bin/hemostatd", "silence", "list"},
	}
	with := func(extra proc) proc {
		p := proc{}
		for k, v := range bystanders {
			p[k] = v
		}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	cases := []struct {
		name  string
		procs proc
		ps    string
		want  []string // lines expected; none means the engine is ours
	}{
		{name: "alone", procs: bystanders, ps: "hse2e-web (sickapp)\nredis (redis:7)\n"},
		{
			name: "daemon run bare", procs: with(proc{777: {"/root/go/bin/hemostatd"}}),
			want: []string{"another healer is acting on this engine: hemostatd (pid 777: /root/go/bin/hemostatd)"},
		},
		{
			name: "daemon with flags", procs: with(proc{778: {"hemostatd", "-config", "/etc/hemostat.hcl"}}),
			want: []string{"another healer is acting on this engine: hemostatd (pid 778: hemostatd -config /etc/hemostat.hcl)"},
		},
		{
			name: "autoheal container", procs: bystanders, ps: "web (nginx)\nautoheal (willfarrell/autoheal:1.2.0)\n",
			want: []string{"another healer is acting on this engine: container autoheal (willfarrell/autoheal:1.2.0)"},
		},
		{
			name: "both", procs: with(proc{779: {"hemostatd"}}), ps: "healer (willfarrell/AutoHeal)\n",
			want: []string{
				"another healer is acting on this engine: hemostatd (pid 779: hemostatd)",
				"another healer is acting on this engine: container healer (willfarrell/AutoHeal)",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := runCheck(t, c.procs.write(t), fakeDocker(t, c.ps, 0))
			wantCode := 0
			if len(c.want) > 0 {
				wantCode = 1
			}
			if code != wantCode {
				t.Errorf("exit code %d, want %d; output:\n%s", code, wantCode, out)
			}
			want := ""
			for _, line := range c.want {
				want += line + "\n"
			}
			if out != want {
				t.Errorf("output:\n%s\nwant:\n%s", out, strings.Join(c.want, "\n"))
			}
		})
	}
}

// An engine that does not answer is no healer: the check says nothing
// rather than failing the run with docker's error.
func TestOtherHealersEngineDown(t *testing.T) {
	out, code := runCheck(t, proc{1: {"/sbin/init"}}.write(t), fakeDocker(t, "", 1))
	if code != 0 || out != "" {
		t.Errorf("exit code %d, output %q; want 0 and nothing", code, out)
	}
}

// On the real process table: a daemon-like process named hemostatd (a
// copy of sleep, run as `hemostatd -- 60`) is found by its pid.
func TestOtherHealersRealProcessTable(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "hemostatd")
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// The kernel names the process once exec is done.
	want := "hemostatd (pid " + strconv.Itoa(cmd.Process.Pid) + ": " + bin + " -- 60)"
	var out string
	for range 50 {
		out, _ = runCheck(t, "/proc", fakeDocker(t, "", 0))
		if strings.Contains(out, want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("the check did not name %s; it said:\n%s", want, out)
}
