// Package llm is HemoStat's LLM analyzer: it asks a language model to read
// what a rule cannot — the log tail, the exit code, the restart and
// remediation history — and to say in plain words what went wrong and what
// to do. It is compiled into hemostatd and off until a config block names
// it; it sits in the analyzer chain before the threshold analyzer, which
// decides whenever it does not.
//
// Providers, through their official Go SDKs: any OpenAI-compatible Chat
// Completions server (OpenAI, Ollama, vLLM, llama.cpp, LM Studio, gateways)
// with response_format json_schema, else json_object, else the first JSON
// object in the text; and Anthropic's Messages API with a forced tool call.
// Both SDKs are built with retries off: the analyzer owns the deadline.
//
// Safe to leave in charge:
//
//   - Everything sent is redacted first (sdk/redact plus redact_patterns);
//     log lines travel as JSON strings the instructions call data.
//   - A reply is used only when its verdict is known, its action is in this
//     analyzer's actions and the responder's allowlist, its confidence is a
//     number in [0, 1] and its reason is not empty; a crash is never a false
//     alarm to it. Anything else, and every failure (timeout, refused
//     connection, 401/403, 404, 429, 5xx, a malformed or empty reply),
//     is an abstention that says why: the next analyzer decides, and the
//     published decision carries the reason in fallback_reason.
//   - A circuit breaker, a 429's Retry-After, max_calls_per_hour and
//     tokens_per_day keep it from calling a model that cannot answer or
//     costs too much; an identical alert within reuse_window reuses the
//     last decision.
//   - mode = "shadow" records its judgement beside the deciding analyzer's
//     instead of deciding.
//
// Analyze never returns an error and never outlives the host's deadline.
package llm
