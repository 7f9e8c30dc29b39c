// Package fakellm is a loopback OpenAI-compatible model server for tests
// that run hemostatd with the llm analyzer: it speaks the real Chat
// Completions wire format (POST /v1/chat/completions, a chat.completion
// object with usage, {"error":{…}} error bodies, Retry-After), answers with
// what the test scripted, and records every request body so that a test can
// check what left hemostatd.
package fakellm
