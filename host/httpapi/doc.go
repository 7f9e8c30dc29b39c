// Package httpapi serves hemostatd's HTTP surface: Prometheus /metrics, a
// liveness probe, a JSON status API and a small dashboard. It listens on
// loopback by default; on any other address a bearer token is required.
package httpapi
