package sdk

import (
	"context"

	"github.com/hashicorp/go-plugin"
	pluginv1 "github.com/hemostat/hemostat/proto/hemostat/plugin/v1"
	"google.golang.org/grpc"
)

type responderPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	base *baseServer
	impl Responder
}

func (p *responderPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	p.base.broker = broker
	pluginv1.RegisterPluginServiceServer(s, p.base)
	pluginv1.RegisterResponderServiceServer(s, &responderServer{impl: p.impl})
	return nil
}

func (p *responderPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &ResponderClient{baseClient: newBaseClient(broker, conn), client: pluginv1.NewResponderServiceClient(conn)}, nil
}

type responderServer struct {
	pluginv1.UnimplementedResponderServiceServer
	impl Responder
}

func (s *responderServer) Capabilities(ctx context.Context, _ *pluginv1.CapabilitiesRequest) (*pluginv1.CapabilitiesResponse, error) {
	actions, err := s.impl.Capabilities(ctx)
	if err != nil {
		return nil, err
	}
	return &pluginv1.CapabilitiesResponse{Actions: actions}, nil
}

func (s *responderServer) Remediate(ctx context.Context, req *pluginv1.RemediateRequest) (*pluginv1.RemediateResponse, error) {
	r, err := s.impl.Remediate(ctx, RemediateRequest{
		Container: req.GetContainer(), Action: req.GetAction(), Reason: req.GetReason(),
		Confidence: req.GetConfidence(), Params: req.GetParams(), DryRun: req.GetDryRun(),
	})
	if err != nil {
		return nil, err
	}
	return &pluginv1.RemediateResponse{Result: resultToProto(r)}, nil
}

// ResponderClient is the host's handle on a responder plugin.
type ResponderClient struct {
	baseClient
	client pluginv1.ResponderServiceClient
}

// Capabilities lists the actions the plugin understands.
func (c *ResponderClient) Capabilities(ctx context.Context) ([]string, error) {
	resp, err := c.client.Capabilities(ctx, &pluginv1.CapabilitiesRequest{})
	if err != nil {
		return nil, rpcError(err)
	}
	return resp.GetActions(), nil
}

// Remediate asks the plugin to carry out one action.
func (c *ResponderClient) Remediate(ctx context.Context, req RemediateRequest) (Result, error) {
	resp, err := c.client.Remediate(ctx, &pluginv1.RemediateRequest{
		Container: req.Container, Action: req.Action, Reason: req.Reason,
		Confidence: req.Confidence, Params: req.Params, DryRun: req.DryRun,
	})
	if err != nil {
		return Result{}, rpcError(err)
	}
	return resultFromProto(resp.GetResult()), nil
}
