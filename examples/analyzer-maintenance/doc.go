// Command hemostat-analyzer-maintenance is an example HemoStat analyzer
// plugin, built as its own binary and dropped into hemostatd's plugin
// directory.
//
// An alert for a container whose name starts with the configured prefix is
// a false alarm with confidence 1: the container is in maintenance. Any
// other alert gets the verdict abstain, which passes it to the next
// analyzer in the chain. The decision depends on the container's name
// alone (case-sensitive), so it is the same for every issue.
//
// Settings (the plugin's config block):
//
//	prefix  string, required  container names starting with it are in maintenance
//
// Until it is configured the plugin abstains on every alert.
package main
