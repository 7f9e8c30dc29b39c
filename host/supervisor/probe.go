package supervisor

import (
	"context"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// Probe starts the plugin of spec without configuring it, asks for its
// Info and ends it again: what `hemostatd plugins` shows. The plugin must
// serve spec.Role.
func Probe(ctx context.Context, opts Options, spec Spec) (sdk.Info, error) {
	spec, err := spec.normalize()
	if err != nil {
		return sdk.Info{}, err
	}
	opts = opts.withDefaults()
	in, err := opts.launch(ctx, spec, nil)
	if err != nil {
		return sdk.Info{}, err
	}
	// The plugin was not configured, so it holds nothing to release; a
	// bounded polite stop is still cheaper than go-plugin's grace period.
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = in.stop(stopCtx)
	return in.info, nil
}
