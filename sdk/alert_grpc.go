package sdk

import (
	"context"

	"github.com/hashicorp/go-plugin"
	pluginv1 "github.com/hemostat/hemostat/proto/hemostat/plugin/v1"
	"google.golang.org/grpc"
)

type alertPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	base *baseServer
	impl Notifier
}

func (p *alertPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	p.base.broker = broker
	pluginv1.RegisterPluginServiceServer(s, p.base)
	pluginv1.RegisterAlertServiceServer(s, &alertServer{impl: p.impl})
	return nil
}

func (p *alertPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &NotifierClient{baseClient: newBaseClient(broker, conn), client: pluginv1.NewAlertServiceClient(conn)}, nil
}

type alertServer struct {
	pluginv1.UnimplementedAlertServiceServer
	impl Notifier
}

func (s *alertServer) Notify(ctx context.Context, req *pluginv1.NotifyRequest) (*pluginv1.NotifyResponse, error) {
	if err := s.impl.Notify(ctx, notificationFromProto(req.GetNotification())); err != nil {
		return nil, deliveryStatus(err)
	}
	return &pluginv1.NotifyResponse{}, nil
}

// NotifierClient is the host's handle on an alert plugin.
type NotifierClient struct {
	baseClient
	client pluginv1.AlertServiceClient
}

// Notify delivers one notification through the plugin.
func (c *NotifierClient) Notify(ctx context.Context, n Notification) error {
	_, err := c.client.Notify(ctx, &pluginv1.NotifyRequest{Notification: notificationToProto(n)})
	return rpcError(err)
}
