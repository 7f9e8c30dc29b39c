// Package deploy holds hemostatd's deployment files — the configuration
// baked into the container image and the compose file — and the test that
// runs the image's final stage on the real Docker engine. It has no code.
package deploy
