package sdk

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	pluginv1 "github.com/hemostat/hemostat/proto/hemostat/plugin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type analyzerPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	base *baseServer
	impl Analyzer
}

func (p *analyzerPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	p.base.broker = broker
	pluginv1.RegisterPluginServiceServer(s, p.base)
	pluginv1.RegisterAnalyzerServiceServer(s, &analyzerServer{impl: p.impl})
	return nil
}

func (p *analyzerPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	client := pluginv1.NewAnalyzerServiceClient(conn)
	return &AnalyzerClient{baseClient: newBaseClient(broker, conn), client: client, mux: &analyzeMux{client: client}}, nil
}

type analyzerServer struct {
	pluginv1.UnimplementedAnalyzerServiceServer
	impl Analyzer
}

func (s *analyzerServer) Analyze(ctx context.Context, req *pluginv1.AnalyzeRequest) (*pluginv1.AnalyzeResponse, error) {
	alert, err := alertFromProto(req.GetAlert())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "alert metrics: %v", err)
	}
	d, err := s.impl.Analyze(ctx, AnalyzeRequest{
		Alert:        alert,
		History:      samplesFromProto(req.GetHistory()),
		Remediations: remediationsFromProto(req.GetRemediations()),
	})
	if err != nil {
		return nil, err
	}
	return &pluginv1.AnalyzeResponse{Decision: decisionToProto(d)}, nil
}

// AnalyzerClient is the host's handle on an analyzer plugin.
type AnalyzerClient struct {
	baseClient
	client pluginv1.AnalyzerServiceClient
	mux    *analyzeMux
}

// Analyze sends one alert with its context to the plugin. Concurrent calls
// share one AnalyzeStream, several to a frame; a plugin built before
// AnalyzeStream gets each as its own Analyze call.
func (c *AnalyzerClient) Analyze(ctx context.Context, req AnalyzeRequest) (Decision, error) {
	alert, err := alertToProto(req.Alert)
	if err != nil {
		return Decision{}, err
	}
	preq := &pluginv1.AnalyzeRequest{
		Alert:        alert,
		History:      samplesToProto(req.History),
		Remediations: remediationsToProto(req.Remediations),
	}
	if c.mux != nil {
		d, err := c.mux.analyze(ctx, preq)
		if !errors.Is(err, errNoStream) {
			if err != nil {
				return Decision{}, rpcError(err)
			}
			return decisionFromProto(d), nil
		}
	}
	resp, err := c.client.Analyze(ctx, preq)
	if err != nil {
		return Decision{}, rpcError(err)
	}
	return decisionFromProto(resp.GetDecision()), nil
}
