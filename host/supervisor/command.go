package supervisor

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/hashicorp/go-plugin"
)

// command builds the process of one plugin: its own executable, or
// hemostatd re-run for a built-in one. The child dies with the host where
// the OS allows it.
func (o *Options) command(spec Spec) (*exec.Cmd, error) {
	path, args := spec.Path, []string(nil)
	if path == "" {
		if o.Self == "" {
			return nil, fmt.Errorf("plugin %s: built-in plugin (no path) but the supervisor knows no executable of its own (Options.Self)", spec.label())
		}
		path, args = o.Self, o.BuiltinArgs(spec.Role, spec.Name)
	} else if err := CheckFile(path); err != nil {
		// Checked on every start, restarts included: the file may have
		// been replaced since.
		return nil, fmt.Errorf("plugin %s: %w", spec.label(), err)
	}
	cmd := exec.Command(path, args...)
	// A minimal environment (go-plugin is told not to add hemostatd's):
	// hemostatd's secrets stay in hemostatd.
	cmd.Env = pluginEnv(os.Environ(), spec.Env)
	setDeathSignal(cmd)
	return cmd, nil
}

// decodeSHA256 parses a hex SHA-256 pin.
func decodeSHA256(pin string) ([]byte, error) {
	sum, err := hex.DecodeString(strings.TrimSpace(pin))
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("sha256 %q is not %d hex digits", pin, 2*sha256.Size)
	}
	return sum, nil
}

// secureConfig turns a pin into go-plugin's check; nil for no pin.
func secureConfig(pin string) (*plugin.SecureConfig, error) {
	if pin == "" {
		return nil, nil
	}
	sum, err := decodeSHA256(pin)
	if err != nil {
		return nil, err
	}
	return &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}, nil
}

// FileSHA256 is the hex SHA-256 of a file's content, as a plugin block's
// sha256 pin expects it.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// startError explains why a plugin process could not be started. A pin
// mismatch says what the file's digest actually is, so that an operator
// who upgraded the plugin on purpose can update the pin.
func startError(spec Spec, cmd *exec.Cmd, err error) error {
	if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		actual, herr := FileSHA256(cmd.Path)
		if herr != nil {
			actual = "unreadable: " + herr.Error()
		}
		return fmt.Errorf("plugin %s: %s: sha256 is %s but the config pins %s: %w",
			spec.label(), cmd.Path, actual, strings.ToLower(strings.TrimSpace(spec.SHA256)), err)
	}
	return fmt.Errorf("plugin %s: start %s: %w", spec.label(), cmd.Path, err)
}
