// Package config reads hemostatd's configuration: one HCL file with a
// section per role, each naming the plugins that play it.
//
// Parse turns the file into a Config, filling every setting the file leaves
// out with the value Default would give it, and checks every value it reads:
// unknown keys, wrong types, bad durations and out-of-range numbers are all
// reported together, each at its place in the file, as Errors whose text is
// one "file:line:col: message" per line — what `hemostatd validate` prints.
//
// Secrets stay out of the file through the env function:
//
//	password = env("REDIS_PASSWORD")      # an error naming the variable when it is unset
//	token    = env("HEMOSTAT_TOKEN", "")  # the second argument is the default
//
// A plugin's own settings live in its nested config block. They are
// free-form here: the block is handed to the plugin as one JSON object
// (Plugin.Config) and the plugin validates it; Plugin.KeyPos turns the key
// of each error the plugin reports back into a position in the file.
package config
