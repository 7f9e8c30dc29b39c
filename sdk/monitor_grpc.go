package sdk

import (
	"context"
	"errors"
	"io"

	"github.com/hashicorp/go-plugin"
	pluginv1 "github.com/hemostat/hemostat/proto/hemostat/plugin/v1"
	"google.golang.org/grpc"
)

type monitorPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	base *baseServer
	impl Monitor
}

func (p *monitorPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	p.base.broker = broker
	pluginv1.RegisterPluginServiceServer(s, p.base)
	pluginv1.RegisterMonitorServiceServer(s, &monitorServer{impl: p.impl})
	return nil
}

func (p *monitorPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &MonitorClient{baseClient: newBaseClient(broker, conn), client: pluginv1.NewMonitorServiceClient(conn)}, nil
}

type monitorServer struct {
	pluginv1.UnimplementedMonitorServiceServer
	impl Monitor
}

func (s *monitorServer) Watch(_ *pluginv1.WatchRequest, stream grpc.ServerStreamingServer[pluginv1.WatchResponse]) error {
	return s.impl.Watch(stream.Context(), func(sample Sample) error {
		return stream.Send(&pluginv1.WatchResponse{Sample: sampleToProto(sample)})
	})
}

// MonitorClient is the host's handle on a monitor plugin.
type MonitorClient struct {
	baseClient
	client pluginv1.MonitorServiceClient
}

// Watch calls emit for every sample the plugin streams until ctx is done or
// the stream breaks.
func (c *MonitorClient) Watch(ctx context.Context, emit func(Sample) error) error {
	stream, err := c.client.Watch(ctx, &pluginv1.WatchRequest{})
	if err != nil {
		return rpcError(err)
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return rpcError(err)
		}
		if err := emit(sampleFromProto(resp.GetSample())); err != nil {
			return err
		}
	}
}
