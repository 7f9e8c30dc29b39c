package testenv

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// dockerName returns a container name unique to this test and run, so that
// tests of several packages can share the engine.
func dockerName(suffix string) string {
	return fmt.Sprintf("hemostat-testenv-%s-%d", suffix, time.Now().UnixNano())
}

func TestTestImageRunsSickapp(t *testing.T) {
	cli := Docker(t)
	image := TestImage(t)
	if !strings.HasPrefix(image, TestImageRepo+":") {
		t.Fatalf("TestImage() = %q, want %s:<hash>", image, TestImageRepo)
	}
	if again := TestImage(t); again != image {
		t.Fatalf("second TestImage() = %q, want %q", again, image)
	}

	tests := []struct {
		name     string
		cmd      []string
		wantExit int64
		wantLogs string
	}{
		{"exit code", []string{"--exit", "3", "--after", "100ms"}, 3, ""},
		{"log lines", []string{"--log", "hello", "--log", "password=hunter2", "--exit", "0"}, 0, "hello\npassword=hunter2\n"},
		{"health ok", []string{"health", "--health-file", "/sickapp"}, 0, "healthy\n"},
		{"health missing", []string{"health"}, 1, ""},
		{"bad flag", []string{"--no-such-flag"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := RunContainer(t, cli, dockerName("run"), &container.Config{Image: image, Cmd: tt.cmd}, nil)
			code := waitExit(t, cli, id)
			if code != tt.wantExit {
				t.Fatalf("exit code = %d, want %d", code, tt.wantExit)
			}
			if tt.wantLogs != "" {
				if got := stdout(t, cli, id); got != tt.wantLogs {
					t.Fatalf("stdout = %q, want %q", got, tt.wantLogs)
				}
			}
		})
	}
}

func TestRunContainerIsolatesAndCleansUp(t *testing.T) {
	cli := Docker(t)
	image := TestImage(t)
	var id string
	t.Run("run", func(t *testing.T) {
		id = RunContainer(t, cli, dockerName("iso"), &container.Config{
			Image: image, Cmd: []string{"--idle"}, Labels: map[string]string{"extra": "yes"},
		}, &container.HostConfig{NetworkMode: "bridge"})
		inspect, err := cli.ContainerInspect(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got := inspect.HostConfig.NetworkMode; got != "none" {
			t.Errorf("NetworkMode = %q, want none", got)
		}
		if inspect.Config.Labels[TestLabel] != "1" || inspect.Config.Labels["extra"] != "yes" {
			t.Errorf("labels = %v, want %s=1 and extra=yes", inspect.Config.Labels, TestLabel)
		}
		if !inspect.State.Running {
			t.Errorf("container not running: %s", inspect.State.Status)
		}
		// SIGTERM ends sickapp at once with code 0.
		timeout := 10
		if err := cli.ContainerStop(context.Background(), id, container.StopOptions{Timeout: &timeout}); err != nil {
			t.Fatal(err)
		}
		if code := waitExit(t, cli, id); code != 0 {
			t.Errorf("exit code after docker stop = %d, want 0", code)
		}
	})
	if _, err := cli.ContainerInspect(context.Background(), id); err == nil {
		t.Fatalf("container %s still exists after its test ended", id[:12])
	}
}

func waitExit(t *testing.T, cli *client.Client, id string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitC, errC := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case res := <-waitC:
		return res.StatusCode
	case err := <-errC:
		t.Fatalf("wait for %s: %v", id[:12], err)
	}
	return -1
}

func stdout(t *testing.T, cli *client.Client, id string) string {
	t.Helper()
	rc, err := cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out, errOut strings.Builder
	if _, err := stdcopy.StdCopy(&out, &errOut, rc); err != nil {
		t.Fatal(err)
	}
	return out.String()
}
