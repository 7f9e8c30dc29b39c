package sdk

import (
	"github.com/hashicorp/go-plugin"
)

// ProtocolVersion is the plugin protocol this SDK speaks. It is raised only
// for changes old plugins cannot follow; the host keeps serving every
// version it lists in VersionedPlugins, so old plugin binaries go on working.
const ProtocolVersion = 1

// Handshake is shared by hemostatd and every plugin. It is not a secret: it
// only keeps a plugin binary from running by accident outside hemostatd.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "HEMOSTAT_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "hemostat-plugin-v1-7c9e6679",
}

// VersionedPlugins is what the host hands go-plugin: every protocol version
// it can talk, with the client shims for each role.
func VersionedPlugins() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {
		RoleMonitor:   &monitorPlugin{},
		RoleAnalyzer:  &analyzerPlugin{},
		RoleResponder: &responderPlugin{},
		RoleAlert:     &alertPlugin{},
	}}
}

// servedPlugins is the plugin side's set: the one role impl plays.
func servedPlugins(info Info, impl Plugin) (plugin.PluginSet, error) {
	base := &baseServer{info: info, impl: impl}
	switch p := impl.(type) {
	case Monitor:
		base.info.Role = RoleMonitor
		return plugin.PluginSet{RoleMonitor: &monitorPlugin{base: base, impl: p}}, nil
	case Analyzer:
		base.info.Role = RoleAnalyzer
		return plugin.PluginSet{RoleAnalyzer: &analyzerPlugin{base: base, impl: p}}, nil
	case Responder:
		base.info.Role = RoleResponder
		return plugin.PluginSet{RoleResponder: &responderPlugin{base: base, impl: p}}, nil
	case Notifier:
		base.info.Role = RoleAlert
		return plugin.PluginSet{RoleAlert: &alertPlugin{base: base, impl: p}}, nil
	}
	return nil, errNoRole
}
