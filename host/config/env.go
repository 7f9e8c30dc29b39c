package config

import (
	"fmt"
	"os"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// secret marks a value read from the environment, so that wherever it lands
// in a plugin's config it is hidden by Redacted.
type secret struct{}

// envFunc is env(name) or env(name, default). An unset variable without a
// default is an error naming it: a secret that silently became "" would
// surface much later as a confusing authentication failure. A variable set
// to "" is "".
var envFunc = function.New(&function.Spec{
	Description: "Reads an environment variable.",
	Params: []function.Parameter{
		{Name: "name", Type: cty.String},
	},
	VarParam: &function.Parameter{Name: "default", Type: cty.String},
	Type:     function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if len(args) > 2 {
			return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default, got %d arguments", len(args))
		}
		name := args[0].AsString()
		if name == "" {
			return cty.NilVal, function.NewArgErrorf(0, "the variable name must not be empty")
		}
		if v, ok := os.LookupEnv(name); ok {
			return cty.StringVal(v).Mark(secret{}), nil
		}
		if len(args) == 2 {
			return args[1].Mark(secret{}), nil
		}
		return cty.NilVal, fmt.Errorf("environment variable %s is not set; set it or give a default: env(%q, \"\")", name, name)
	},
})
