package deploy

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/hemostat/hemostat/internal/testenv"
)

// runtimeStage is the Dockerfile's last stage with its copies from the
// build stage turned into copies from the test's build context: the image
// the test runs is the one the Dockerfile describes, around a binary the
// test compiled instead of one built in a golang image (no registry here).
func runtimeStage(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	last := strings.LastIndex(text, "\nFROM ")
	if last < 0 {
		t.Fatal("the Dockerfile has no second stage")
	}
	stage := text[last+1:]
	fromBuild := regexp.MustCompile(`(?m)^COPY --from=build /out/(\S+) `)
	if n := len(fromBuild.FindAllString(stage, -1)); n != 2 {
		t.Fatalf("expected the runtime stage to copy hemostatd and tmp from the build stage, found %d copies:\n%s", n, stage)
	}
	return fromBuild.ReplaceAllString(stage, "COPY $1 ")
}

func buildHemostatd(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hemostatd")
	cmd := exec.Command("go", "build", "-o", out, "github.com/hemostat/hemostat/cmd/hemostatd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func suffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestImageHealsASibling runs the image as deploy/compose.yaml does — the
// Docker socket and the host's cgroup tree mounted, the baked-in config —
// but with the embedded Redis and no network, and watches it restart a
// container that crashes beside it.
func TestImageHealsASibling(t *testing.T) {
	cli := testenv.Docker(t)
	cfg, err := os.ReadFile("hemostat.hcl")
	if err != nil {
		t.Fatal(err)
	}
	ref := "hemostat-deploytest:" + suffix()
	testenv.BuildImage(t, cli, ref, []testenv.File{
		{Name: "Dockerfile", Mode: 0o644, Data: []byte(runtimeStage(t))},
		{Name: "hemostatd", Mode: 0o755, Data: buildHemostatd(t)},
		{Name: "tmp", Mode: 0o1777, Dir: true},
		{Name: "deploy/hemostat.hcl", Mode: 0o644, Data: cfg},
	})

	// The name matches the config's protected "hemostat*": the monitor
	// also recognises its own container and never reports it.
	hemostat := testenv.RunContainer(t, cli, "hemostat-deploytest-"+suffix(), &container.Config{
		Image: ref,
		Env:   []string{"HEMOSTAT_REDIS_ADDRESS=", "HEMOSTAT_TOKEN=test-token"},
	}, &container.HostConfig{Mounts: []mount.Mount{
		{Type: mount.TypeBind, Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"},
		{Type: mount.TypeBind, Source: "/sys/fs/cgroup", Target: "/host/sys/fs/cgroup", ReadOnly: true},
	}})
	logs := followLogs(t, hemostat)
	logs.waitFor(t, "hemostatd running", 60*time.Second)

	crash := testenv.RunContainer(t, cli, "deploytest-crash-"+suffix(), &container.Config{
		Image: testenv.TestImage(t), Cmd: []string{"--exit", "3", "--after", "2s"},
	}, nil)
	ctx := context.Background()
	before, err := cli.ContainerInspect(ctx, crash)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		now, err := cli.ContainerInspect(ctx, crash)
		if err != nil {
			t.Fatal(err)
		}
		if now.State.StartedAt != before.State.StartedAt && now.State.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the crashed container was not restarted by hemostatd in its container; its log:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	logs.waitFor(t, "restart succeeded", 10*time.Second)
	self, err := cli.ContainerInspect(ctx, hemostat)
	if err != nil || !self.State.Running || self.State.StartedAt == "" {
		t.Fatalf("hemostatd's own container is not running: %+v %v", self.State, err)
	}
}

// containerLog collects a container's output as it comes.
type containerLog struct {
	lines chan string
	all   strings.Builder
}

func followLogs(t *testing.T, id string) *containerLog {
	t.Helper()
	cli := testenv.Docker(t)
	ctx, cancel := context.WithCancel(context.Background())
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, rc)
		pw.CloseWithError(err)
	}()
	l := &containerLog{lines: make(chan string, 4096)}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			l.lines <- sc.Text()
		}
		close(l.lines)
	}()
	t.Cleanup(func() {
		cancel()
		rc.Close()
	})
	return l
}

func (l *containerLog) waitFor(t *testing.T, substr string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-l.lines:
			if !ok {
				t.Fatalf("the container's log ended before %q:\n%s", substr, l.all.String())
			}
			l.all.WriteString(line + "\n")
			if strings.Contains(line, substr) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q in the container's log within %s:\n%s", substr, timeout, l.all.String())
		}
	}
}

func (l *containerLog) String() string { return l.all.String() }
