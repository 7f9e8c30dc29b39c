package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
)

// TestLabel marks every container and image the tests create, so that a
// leftover from a crashed run can be recognised and removed.
const TestLabel = "hemostat.test"

// TestImageRepo is the repository of the image TestImage builds.
const TestImageRepo = "hemostat-sickapp"

// dockerTimeout bounds one Engine API call made by the helpers.
const dockerTimeout = 2 * time.Minute

// Docker returns a client for the engine named by the environment
// (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), negotiating the API
// version. The test fails when the engine does not answer.
func Docker(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("testenv: docker client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		t.Fatalf("testenv: the Docker engine at %s does not answer (%v); these tests need a running dockerd", cli.DaemonHost(), err)
	}
	return cli
}

var testImage struct {
	once sync.Once
	ref  string
	err  error
}

// TestImage returns the reference of the sickapp test image
// ("hemostat-sickapp:<hash of its sources>"), building it FROM scratch on
// first use. The build runs once per test binary; an image whose tag already
// exists (built by another package's tests) is reused as is.
func TestImage(t testing.TB) string {
	t.Helper()
	cli := Docker(t)
	testImage.once.Do(func() {
		testImage.ref, testImage.err = ensureTestImage(cli)
	})
	if testImage.err != nil {
		t.Fatalf("testenv: test image: %v", testImage.err)
	}
	return testImage.ref
}

func ensureTestImage(cli *client.Client) (string, error) {
	src, err := sickappDir()
	if err != nil {
		return "", err
	}
	hash, err := hashDir(src)
	if err != nil {
		return "", err
	}
	ref := TestImageRepo + ":" + hash
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	if _, err := cli.ImageInspect(ctx, ref); err == nil {
		return ref, nil
	} else if !errdefs.IsNotFound(err) {
		return "", fmt.Errorf("inspect %s: %w", ref, err)
	}
	sickappBinary.once.Do(func() { sickappBinary.data, sickappBinary.err = buildSickapp(ctx, src) })
	binary, err := sickappBinary.data, sickappBinary.err
	if err != nil {
		return "", err
	}
	dockerfile, err := os.ReadFile(filepath.Join(src, "Dockerfile"))
	if err != nil {
		return "", err
	}
	buildCtx, err := tarball(map[string][]byte{"Dockerfile": dockerfile, "sickapp": binary})
	if err != nil {
		return "", err
	}
	resp, err := cli.ImageBuild(ctx, buildCtx, build.ImageBuildOptions{
		Tags:        []string{ref},
		Labels:      map[string]string{TestLabel: "1"},
		Remove:      true,
		ForceRemove: true,
		NetworkMode: "none",
		Version:     build.BuilderV1,
	})
	if err != nil {
		return "", fmt.Errorf("build %s: %w", ref, err)
	}
	defer resp.Body.Close()
	if err := buildError(resp.Body); err != nil {
		return "", fmt.Errorf("build %s: %w", ref, err)
	}
	return ref, nil
}

// sickappDir finds the sickapp sources beside this file, so that tests in
// any package of the module reach them; a binary built with -trimpath
// asks the go command where the module lives instead.
func sickappDir() (string, error) {
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", "testimage", "sickapp"))
	}
	if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		if mod := strings.TrimSpace(string(out)); mod != "" && mod != os.DevNull {
			candidates = append(candidates, filepath.Join(filepath.Dir(mod), "internal", "testimage", "sickapp"))
		}
	}
	for _, dir := range candidates {
		if _, err := os.Stat(filepath.Join(dir, "main.go")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("cannot find the sickapp sources (internal/testimage/sickapp)")
}

// hashDir hashes the names and contents of the regular files in dir, plus
// the Go release that compiles them: the image tag changes exactly when the
// image would.
func hashDir(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s\n", runtime.Version(), "linux", runtime.GOARCH)
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// sickappBinary is compiled once per test binary, however many engines
// build the image from it.
var sickappBinary struct {
	once sync.Once
	data []byte
	err  error
}

// buildSickapp compiles a static linux binary of sickapp and returns it.
func buildSickapp(ctx context.Context, src string) ([]byte, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := os.MkdirTemp("", "sickapp-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	bin := filepath.Join(out, "sickapp")
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build sickapp: %v\n%s", err, msg)
	}
	return os.ReadFile(bin)
}

// tarball packs files into an in-memory tar: the build context.
func tarball(files map[string][]byte) (io.Reader, error) {
	entries := make([]File, 0, len(files))
	for name, data := range files {
		mode := int64(0o644)
		if name == "sickapp" {
			mode = 0o755
		}
		entries = append(entries, File{Name: name, Mode: mode, Data: data})
	}
	return tarFiles(entries)
}

// File is one entry of an image build context.
type File struct {
	Name string
	Mode int64 // permission bits, kept by the image's COPY
	Data []byte
	Dir  bool // an empty directory; Data is ignored
}

func tarFiles(files []File) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range files {
		hdr := &tar.Header{Name: f.Name, Mode: f.Mode, Size: int64(len(f.Data)), Typeflag: tar.TypeReg}
		if f.Dir {
			hdr.Name, hdr.Size, hdr.Typeflag = strings.TrimSuffix(f.Name, "/")+"/", 0, tar.TypeDir
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if !f.Dir {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	return &buf, tw.Close()
}

// BuildImage builds ref from a build context of files (a Dockerfile among
// them) with the classic builder and no network, removes it when the test
// ends, and fails the test with the build's own error.
func BuildImage(t testing.TB, cli *client.Client, ref string, files []File) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	buildCtx, err := tarFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cli.ImageBuild(ctx, buildCtx, build.ImageBuildOptions{
		Tags: []string{ref}, Labels: map[string]string{TestLabel: "1"},
		Remove: true, ForceRemove: true, NetworkMode: "none", Version: build.BuilderV1,
	})
	if err != nil {
		t.Fatalf("build %s: %v", ref, err)
	}
	defer resp.Body.Close()
	if err := buildError(resp.Body); err != nil {
		t.Fatalf("build %s: %v", ref, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
		defer cancel()
		cli.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
	})
}

// buildError reads the build's JSON progress stream to its end and returns
// the error it reports, if any: ImageBuild itself succeeds as soon as the
// engine accepts the context.
func buildError(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading build output: %w", err)
		}
		if msg.ErrorDetail.Message != "" {
			return errors.New(msg.ErrorDetail.Message)
		}
		if msg.Error != "" {
			return errors.New(msg.Error)
		}
	}
}

// RunContainer creates and starts a container with no network and the test
// label, and force-removes it when the test ends. A leftover test container
// of the same name, from a run that crashed, is removed first. It returns
// the container's ID.
func RunContainer(t testing.TB, cli *client.Client, name string, cfg *container.Config, host *container.HostConfig) string {
	t.Helper()
	if cfg == nil {
		t.Fatal("testenv: RunContainer needs a container config")
	}
	c := *cfg
	c.Labels = map[string]string{TestLabel: "1"}
	for k, v := range cfg.Labels {
		c.Labels[k] = v
	}
	h := container.HostConfig{}
	if host != nil {
		h = *host
	}
	h.NetworkMode = "none"

	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	created, err := cli.ContainerCreate(ctx, &c, &h, nil, nil, name)
	if errdefs.IsConflict(err) && removeStaleTestContainer(ctx, cli, name) {
		created, err = cli.ContainerCreate(ctx, &c, &h, nil, nil, name)
	}
	if err != nil {
		t.Fatalf("testenv: create container %q: %v", name, err)
	}
	t.Cleanup(func() { removeContainer(t, cli, created.ID) })
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("testenv: start container %q: %v", name, err)
	}
	return created.ID
}

func removeContainer(t testing.TB, cli *client.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	err := cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !errdefs.IsNotFound(err) && !isRemovalInProgress(err) {
		t.Errorf("testenv: remove container %s: %v", id[:12], err)
	}
}

func isRemovalInProgress(err error) bool {
	return strings.Contains(err.Error(), "removal of container") && strings.Contains(err.Error(), "already in progress")
}

// removeStaleTestContainer removes the container called name if the tests
// created it; it reports whether it did.
func removeStaleTestContainer(ctx context.Context, cli *client.Client, name string) bool {
	list, err := cli.ContainerList(ctx, container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("name", "^/"+name+"$"), filters.Arg("label", TestLabel+"=1")),
	})
	if err != nil || len(list) != 1 {
		return false
	}
	return cli.ContainerRemove(ctx, list[0].ID, container.RemoveOptions{Force: true}) == nil
}
