package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	pluginv1 "github.com/hemostat/hemostat/proto/hemostat/plugin/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// hostServer serves HostService on the host's side of the broker.
type hostServer struct {
	pluginv1.UnimplementedHostServiceServer
	mu   sync.RWMutex
	impl Host
}

func (s *hostServer) set(h Host) {
	s.mu.Lock()
	s.impl = h
	s.mu.Unlock()
}

func (s *hostServer) host() Host {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.impl
}

func (s *hostServer) PublishEvent(ctx context.Context, req *pluginv1.PublishEventRequest) (*pluginv1.PublishEventResponse, error) {
	if req.GetType() == "" {
		return nil, status.Error(codes.InvalidArgument, "event type is empty")
	}
	if !json.Valid(req.GetDataJson()) {
		return nil, status.Error(codes.InvalidArgument, "data is not valid JSON")
	}
	if err := s.host().PublishEvent(ctx, req.GetType(), json.RawMessage(req.GetDataJson())); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &pluginv1.PublishEventResponse{}, nil
}

func (s *hostServer) GetSharedState(ctx context.Context, req *pluginv1.GetSharedStateRequest) (*pluginv1.GetSharedStateResponse, error) {
	var raw json.RawMessage
	found, err := s.host().GetSharedState(ctx, req.GetKey(), &raw)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &pluginv1.GetSharedStateResponse{Found: found, ValueJson: raw}, nil
}

func (s *hostServer) SetSharedState(ctx context.Context, req *pluginv1.SetSharedStateRequest) (*pluginv1.SetSharedStateResponse, error) {
	if !json.Valid(req.GetValueJson()) {
		return nil, status.Error(codes.InvalidArgument, "value is not valid JSON")
	}
	if req.GetTtlSeconds() < 0 {
		return nil, status.Error(codes.InvalidArgument, "ttl_seconds is negative")
	}
	ttl := time.Duration(req.GetTtlSeconds()) * time.Second
	if err := SetSharedStateTTL(ctx, s.host(), req.GetKey(), json.RawMessage(req.GetValueJson()), ttl); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &pluginv1.SetSharedStateResponse{}, nil
}

// hostClient is the plugin's view of the host.
type hostClient struct {
	client pluginv1.HostServiceClient
}

func (c *hostClient) PublishEvent(ctx context.Context, eventType string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = c.client.PublishEvent(ctx, &pluginv1.PublishEventRequest{Type: eventType, DataJson: raw})
	return rpcError(err)
}

func (c *hostClient) GetSharedState(ctx context.Context, key string, into any) (bool, error) {
	resp, err := c.client.GetSharedState(ctx, &pluginv1.GetSharedStateRequest{Key: key})
	if err != nil {
		return false, rpcError(err)
	}
	if !resp.GetFound() {
		return false, nil
	}
	return true, json.Unmarshal(resp.GetValueJson(), into)
}

func (c *hostClient) SetSharedState(ctx context.Context, key string, value any) error {
	raw, err := json.Marshal(value)
	if err != nil {
		return err
	}
	_, err = c.client.SetSharedState(ctx, &pluginv1.SetSharedStateRequest{Key: key, ValueJson: raw})
	return rpcError(err)
}

func (c *hostClient) SetSharedStateTTL(ctx context.Context, key string, value any, ttl time.Duration) error {
	raw, err := json.Marshal(value)
	if err != nil {
		return err
	}
	// Whole seconds, rounded up: Redis's EX, and never 0 (no lifetime).
	secs := int64((ttl + time.Second - 1) / time.Second)
	_, err = c.client.SetSharedState(ctx, &pluginv1.SetSharedStateRequest{Key: key, ValueJson: raw, TtlSeconds: secs})
	return rpcError(err)
}

// ErrNoHost is returned by the Host a plugin gets when the caller of
// Configure offered none.
var ErrNoHost = errors.New("sdk: no host to call back")

type noHost struct{}

func (noHost) PublishEvent(context.Context, string, any) error           { return ErrNoHost }
func (noHost) GetSharedState(context.Context, string, any) (bool, error) { return false, ErrNoHost }
func (noHost) SetSharedState(context.Context, string, any) error         { return ErrNoHost }
func (noHost) SetSharedStateTTL(context.Context, string, any, time.Duration) error {
	return ErrNoHost
}
