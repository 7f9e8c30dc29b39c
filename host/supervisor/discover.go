package supervisor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hemostat/hemostat/sdk"
)

// Found is a plugin executable in the plugin directory.
type Found struct {
	Role, Name string
	// Path is the executable's path: the directory joined with its name.
	Path string
	// SHA256 is the hex digest of the file, ready to pin in the config.
	SHA256 string
	// Refused, when set, says why the file will not be run (CheckFile);
	// it must not be executed, not even to ask its version.
	Refused string
}

// Skipped is an entry of the plugin directory that is not a usable plugin,
// with the reason, so that an operator learns why a dropped-in file is
// ignored.
type Skipped struct {
	Path, Reason string
}

// pluginPrefix starts the name of every plugin executable:
// hemostat-<role>-<name>.
const pluginPrefix = "hemostat-"

// Discover lists the plugins in dir: executable files named
// hemostat-<role>-<name>, role one of sdk.Roles, in name order. Every
// other entry is returned in skipped with the reason. A missing dir holds
// no plugins and is not an error; an unreadable one is.
func Discover(dir string) (found []Found, skipped []Skipped, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("plugin directory: %w", err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		f, reason := inspect(path, e.Name())
		if reason != "" {
			skipped = append(skipped, Skipped{Path: path, Reason: reason})
			continue
		}
		found = append(found, f)
	}
	return found, skipped, nil
}

// inspect checks one directory entry; a non-empty reason says why it is
// not a plugin.
func inspect(path, base string) (Found, string) {
	role, name, reason := parsePluginName(base)
	if reason != "" {
		return Found{}, reason
	}
	info, err := os.Stat(path) // follows symlinks: a link to a binary is fine
	switch {
	case err != nil:
		return Found{}, err.Error()
	case !info.Mode().IsRegular():
		return Found{}, "not a regular file"
	case info.Mode().Perm()&0o111 == 0:
		return Found{}, "not executable"
	}
	sum, err := FileSHA256(path)
	if err != nil {
		return Found{}, err.Error()
	}
	f := Found{Role: role, Name: name, Path: path, SHA256: sum}
	if err := CheckFile(path); err != nil {
		f.Refused = err.Error()
	}
	return f, ""
}

// parsePluginName splits hemostat-<role>-<name>. Names may hold dashes;
// roles do not.
func parsePluginName(base string) (role, name, reason string) {
	rest, ok := strings.CutPrefix(base, pluginPrefix)
	if !ok {
		return "", "", "name does not start with " + pluginPrefix
	}
	role, name, ok = strings.Cut(rest, "-")
	switch {
	case !ok || role == "":
		return "", "", "name is not " + pluginPrefix + "<role>-<name>"
	case !slices.Contains(sdk.Roles, role):
		return "", "", fmt.Sprintf("role %q is not one of %v", role, sdk.Roles)
	case name == "":
		return "", "", "plugin name is empty"
	case strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == '.' }):
		return "", "", "plugin name holds a space, a control character or a dot"
	}
	return role, name, ""
}
