package dockerresponder

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/sdk"
)

// Responder carries out remediation actions through the Docker Engine API.
// It is safe for concurrent use; actions on the same container run one at
// a time.
type Responder struct {
	mu  sync.RWMutex
	cfg Config
	cli *client.Client

	locks containerLocks
	// policy is the host's safety policy, applied to what each request
	// resolves to.
	policy targetPolicy
	// self is the container this process runs in, never restarted as a
	// dependent.
	self selfIdentity
	// foreign notices another client restarting, stopping or killing a
	// container around our own action on it (foreign.go).
	foreign *foreignWatch
}

var (
	_ sdk.Responder  = (*Responder)(nil)
	_ sdk.Shutdowner = (*Responder)(nil)
)

// New returns a Responder with the default settings. It talks to the
// engine once Configure has run.
func New() *Responder {
	return &Responder{cfg: DefaultConfig(), self: detectSelf("/proc"), policy: policyFrom(nil), foreign: newForeignWatch(sdk.Logger("responder-docker"))}
}

// Configure validates the settings and connects to the engine named by
// docker_host or the environment. The connection is lazy: an engine that is
// down now is reported by the first action, not as a config error.
// The host's safety policy, when it hands one, is enforced on every
// request's resolved container.
func (r *Responder) Configure(_ context.Context, raw json.RawMessage, host sdk.Host) error {
	cfg, err := ParseConfig(raw)
	if err != nil {
		return err
	}
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if cfg.DockerHost != "" {
		opts = append(opts, client.WithHost(cfg.DockerHost))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		key := ""
		if cfg.DockerHost != "" {
			key = "docker_host"
		}
		return sdk.ConfigErrors{{Key: key, Message: fmt.Sprintf("docker client: %v", err)}}
	}
	r.mu.Lock()
	old := r.cli
	r.cfg, r.cli, r.policy = cfg, cli, policyFrom(host)
	r.mu.Unlock()
	r.foreign.setHost(host)
	// The other-healer watch follows the engine from now on, so that no
	// action has to open an events stream of its own.
	r.foreign.start(cli)
	if old != nil {
		old.Close()
	}
	return nil
}

// Shutdown ends the engine event subscription and closes the engine
// connection.
func (r *Responder) Shutdown(context.Context) error {
	r.mu.Lock()
	cli := r.cli
	r.cli = nil
	r.mu.Unlock()
	r.foreign.stop()
	if cli != nil {
		return cli.Close()
	}
	return nil
}

// Capabilities lists the actions Remediate understands.
func (r *Responder) Capabilities(context.Context) ([]string, error) {
	return actionNames(), nil
}

// Remediate carries out one action. Every outcome, including a refusal, an
// engine error and a responder not yet configured, is a Result with a
// status that says why, so the error return is always nil: the host
// publishes the Result as is.
func (r *Responder) Remediate(ctx context.Context, req sdk.RemediateRequest) (sdk.Result, error) {
	start := time.Now()
	res := r.remediate(ctx, req)
	res.Duration = time.Since(start)
	if req.DryRun {
		res = withDetail(res, "dry_run", "true")
	}
	return res, nil
}

func (r *Responder) remediate(ctx context.Context, req sdk.RemediateRequest) sdk.Result {
	r.mu.RLock()
	cfg, cli, policy := r.cfg, r.cli, r.policy
	r.mu.RUnlock()
	if cli == nil {
		return failed("the Docker responder is not configured (or was shut down)")
	}
	act, ok := actions[req.Action]
	if !ok {
		return sdk.Result{
			Status: sdk.StatusNotApplicable,
			Error:  fmt.Sprintf("unknown action %q; this responder knows %s", req.Action, strings.Join(actionNames(), ", ")),
		}
	}
	if strings.TrimSpace(req.Container) == "" {
		return rejected("no container named in the request")
	}

	seen := r.locks.released()
	target, err := cli.ContainerInspect(ctx, req.Container)
	if err != nil {
		return engineFailure(req.Container, "inspect", err)
	}
	if !refersTo(target, req.Container) {
		// The container asked for is gone and the engine matched the
		// name as an ID prefix of another one.
		return failed(goneError(req.Container))
	}
	// Lock by ID, so that a request naming the container and one giving
	// its ID wait for each other, then look again if an action ended
	// meanwhile: the state seen before it may be stale. An inspect costs
	// the engine a round trip on the way to the action, so it is not
	// repeated when nothing can have changed it.
	unlock, err := r.locks.lock(ctx, target.ID)
	if err != nil {
		return failed(fmt.Sprintf("waiting for another action on %s: %v", req.Container, err))
	}
	defer unlock()
	if r.locks.released() != seen {
		if target, err = cli.ContainerInspect(ctx, target.ID); err != nil {
			return engineFailure(req.Container, "inspect", err)
		}
	}
	// Every safety rule applies to the container the reference resolved
	// to, whoever asked and whatever the host checked.
	if reason := policy.refusal(r.self, target, req.Action); reason != "" {
		return withDetail(rejected(reason), "container_id", shortID(target.ID))
	}
	c := &call{req: req, cfg: cfg, cli: cli, self: r.self, policy: policy, target: target, name: containerName(target)}
	watch := r.foreign.begin(cli, target.ID, c.name, target.State != nil && target.State.Running, req)
	res := act(ctx, c)
	watch.end(res)
	if res.StateAfter == "" {
		res.StateAfter = c.stateNow(ctx)
	}
	return withDetail(res, "container_id", shortID(target.ID))
}

// call is one Remediate in progress.
type call struct {
	req    sdk.RemediateRequest
	cfg    Config
	cli    *client.Client
	self   selfIdentity
	policy targetPolicy
	target container.InspectResponse // as inspected before acting
	name   string
}

// stateNow describes the target's state as the engine sees it now.
func (c *call) stateNow(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now, err := c.cli.ContainerInspect(ctx, c.target.ID)
	if err != nil {
		if isGone(err) {
			return stateRemoved
		}
		return ""
	}
	return describeState(now)
}

// action carries out one kind of remediation.
type action func(ctx context.Context, c *call) sdk.Result

var actions = map[string]action{
	sdk.ActionRestart:         restart,
	sdk.ActionStop:            stop,
	sdk.ActionStart:           start,
	sdk.ActionKill:            kill,
	sdk.ActionUnpause:         unpause,
	sdk.ActionUpdateResources: updateResources,
	sdk.ActionExec:            execCommand,
	sdk.ActionCleanup:         cleanup,
	sdk.ActionScale:           scale,
}

func actionNames() []string {
	names := make([]string, 0, len(actions))
	for name := range actions {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
