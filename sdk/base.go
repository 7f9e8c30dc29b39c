package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-plugin"
	pluginv1 "github.com/hemostat/hemostat/proto/hemostat/plugin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

var errNoRole = errors.New("sdk: the plugin implements none of Monitor, Analyzer, Responder, Notifier")

// Info names a plugin. Role is filled in from the interface it implements.
type Info struct {
	Role    string `json:"role"`
	Name    string `json:"name"`
	Version string `json:"version"`
	// ProtocolVersion is the plugin protocol the plugin speaks.
	ProtocolVersion int `json:"protocol_version"`
}

// Shutdowner is implemented by plugins that hold resources (connections,
// goroutines) to release before the host stops them.
type Shutdowner interface {
	Shutdown(ctx context.Context) error
}

// Base is what the host can ask of any plugin beside its role.
type Base interface {
	Info(ctx context.Context) (Info, error)
	Configure(ctx context.Context, config json.RawMessage, host Host) error
	Shutdown(ctx context.Context) error
}

// baseServer serves PluginService inside the plugin process.
type baseServer struct {
	pluginv1.UnimplementedPluginServiceServer
	info   Info
	impl   Plugin
	broker *plugin.GRPCBroker

	mu       sync.Mutex
	hostID   uint32
	hostConn *grpc.ClientConn
}

func (s *baseServer) GetInfo(context.Context, *pluginv1.GetInfoRequest) (*pluginv1.GetInfoResponse, error) {
	return &pluginv1.GetInfoResponse{
		Role: s.info.Role, Name: s.info.Name, Version: s.info.Version,
		ProtocolVersion: uint32(ProtocolVersion),
	}, nil
}

func (s *baseServer) Configure(ctx context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	host, err := s.dialHost(req.GetHostBrokerId())
	if err != nil {
		return nil, status.Errorf(status.Code(err), "dial host service: %v", err)
	}
	if actions := req.GetResponderActions(); len(actions) > 0 {
		ctx = WithResponderActions(ctx, actions)
	}
	if sp := req.GetSafetyPolicy(); sp != nil {
		host = WithSafetyPolicy(host, SafetyPolicy{
			Protected: sp.GetProtected(), Actions: sp.GetActions(), RequireOptIn: sp.GetRequireOptIn(),
		})
	}
	err = s.impl.Configure(ctx, req.GetConfigJson(), host)
	if err == nil {
		return &pluginv1.ConfigureResponse{}, nil
	}
	var list ConfigErrors
	var one ConfigError
	var onePtr *ConfigError
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = ConfigErrors{one}
	case errors.As(err, &onePtr):
		list = ConfigErrors{*onePtr}
	default:
		list = ConfigErrors{{Message: err.Error()}}
	}
	resp := &pluginv1.ConfigureResponse{}
	for _, e := range list {
		resp.Errors = append(resp.Errors, &pluginv1.ConfigError{Key: e.Key, Message: e.Message})
	}
	return resp, nil
}

// dialHost connects to the HostService the host serves through the broker.
// A zero id means the caller offers no host; the plugin gets one whose
// methods fail, so that a plugin under test learns it at once.
func (s *baseServer) dialHost(id uint32) (Host, error) {
	if id == 0 || s.broker == nil {
		return noHost{}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The broker hands out a connection once per id: a second Configure
	// from the same host reuses it.
	if s.hostConn != nil && s.hostID == id {
		return &hostClient{client: pluginv1.NewHostServiceClient(s.hostConn)}, nil
	}
	if s.hostConn != nil {
		s.hostConn.Close()
		s.hostConn = nil
	}
	conn, err := s.broker.Dial(id)
	if err != nil {
		return nil, err
	}
	s.hostID, s.hostConn = id, conn
	return &hostClient{client: pluginv1.NewHostServiceClient(conn)}, nil
}

func (s *baseServer) Shutdown(ctx context.Context, _ *pluginv1.ShutdownRequest) (*pluginv1.ShutdownResponse, error) {
	if sd, ok := s.impl.(Shutdowner); ok {
		if err := sd.Shutdown(ctx); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	if s.hostConn != nil {
		s.hostConn.Close()
		s.hostConn = nil
	}
	s.mu.Unlock()
	return &pluginv1.ShutdownResponse{}, nil
}

// baseClient is the host's half of PluginService.
type baseClient struct {
	client pluginv1.PluginServiceClient
	broker *plugin.GRPCBroker

	mu       sync.Mutex
	hostID   uint32
	hostImpl *hostServer
}

func newBaseClient(broker *plugin.GRPCBroker, conn *grpc.ClientConn) baseClient {
	return baseClient{client: pluginv1.NewPluginServiceClient(conn), broker: broker}
}

func (c *baseClient) Info(ctx context.Context) (Info, error) {
	resp, err := c.client.GetInfo(ctx, &pluginv1.GetInfoRequest{})
	if err != nil {
		return Info{}, rpcError(err)
	}
	return Info{Role: resp.GetRole(), Name: resp.GetName(), Version: resp.GetVersion(), ProtocolVersion: int(resp.GetProtocolVersion())}, nil
}

// Configure serves host to the plugin through the broker (once per plugin
// process; a later call swaps the implementation behind the same id) and
// sends the settings.
func (c *baseClient) Configure(ctx context.Context, config json.RawMessage, host Host) error {
	id := c.serveHost(host)
	req := &pluginv1.ConfigureRequest{ConfigJson: config, HostBrokerId: id, ResponderActions: ResponderActions(ctx)}
	if p, ok := SafetyPolicyOf(host); ok {
		req.SafetyPolicy = &pluginv1.SafetyPolicy{Protected: p.Protected, Actions: p.Actions, RequireOptIn: p.RequireOptIn}
	}
	resp, err := c.client.Configure(ctx, req)
	if err != nil {
		return rpcError(err)
	}
	if len(resp.GetErrors()) == 0 {
		return nil
	}
	errs := make(ConfigErrors, len(resp.GetErrors()))
	for i, e := range resp.GetErrors() {
		errs[i] = ConfigError{Key: e.GetKey(), Message: e.GetMessage()}
	}
	return errs
}

func (c *baseClient) serveHost(host Host) uint32 {
	if host == nil || c.broker == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hostImpl != nil {
		c.hostImpl.set(host)
		return c.hostID
	}
	c.hostImpl = &hostServer{}
	c.hostImpl.set(host)
	c.hostID = c.broker.NextId()
	srv := c.hostImpl
	go c.broker.AcceptAndServe(c.hostID, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		pluginv1.RegisterHostServiceServer(s, srv)
		return s
	})
	return c.hostID
}

func (c *baseClient) Shutdown(ctx context.Context) error {
	_, err := c.client.Shutdown(ctx, &pluginv1.ShutdownRequest{})
	return rpcError(err)
}

// rpcError turns a gRPC status into a plain error carrying the plugin's
// message, keeping the status reachable through errors.As for callers that
// care about codes (Unavailable means the plugin process is gone).
func rpcError(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &RPCError{Code: st.Code().String(), Message: st.Message(), err: err}
}

// RPCError is a failed call to a plugin.
type RPCError struct {
	Code    string
	Message string
	err     error
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("plugin call failed (%s): %s", e.Code, e.Message)
}

// GRPCStatus lets status.FromError see through the wrapper.
func (e *RPCError) GRPCStatus() *status.Status {
	st, _ := status.FromError(e.err)
	return st
}

// Unwrap returns the gRPC error.
func (e *RPCError) Unwrap() error { return e.err }
