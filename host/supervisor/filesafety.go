package supervisor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrUnsafeFile marks a plugin executable hemostatd refuses to run.
var ErrUnsafeFile = errors.New("unsafe plugin file")

// CheckFile refuses a plugin executable that someone other than
// hemostatd's user or root could have written, as OpenSSH does for
// authorized_keys (secure_filename) and sudo for sudoers: the file, and
// every directory from it up to /, must be owned by root or by hemostatd's
// effective user and not be writable by group or others. A symlink is
// resolved and the path it leads to is checked, and so is the path it was
// found under. A world-writable directory with the sticky bit (/tmp) is
// accepted: there only an entry's owner can replace it, and the entry's
// own owner is checked.
func CheckFile(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsafeFile, path, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsafeFile, path, err)
	}
	uid := os.Geteuid()
	if err := checkOwner(real, uid, false); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsafeFile, path, err)
	}
	// The directories the file really lives in, and those its name was
	// found under (a link in plugin_dir can be swapped by whoever may
	// write plugin_dir).
	for _, start := range []string{filepath.Dir(real), filepath.Dir(abs)} {
		for dir := start; ; dir = filepath.Dir(dir) {
			if err := checkOwner(dir, uid, true); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrUnsafeFile, path, err)
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
	}
	return nil
}

// checkOwner checks one path component without following a final symlink.
func checkOwner(path string, uid int, isDir bool) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: cannot read its owner", path)
	}
	mode := info.Mode()
	switch {
	case mode&os.ModeSymlink != 0 && isDir:
		// A directory found under a link: EvalSymlinks resolved the real
		// path, which is checked separately; the link's own name sits in
		// a directory checked here too.
		return nil
	case int(st.Uid) != 0 && int(st.Uid) != uid:
		return fmt.Errorf("%s is owned by uid %d, not by root or hemostatd's uid %d", path, st.Uid, uid)
	case mode.Perm()&0o022 != 0 && !(isDir && mode&os.ModeSticky != 0):
		what := "file"
		if isDir {
			what = "directory"
		}
		return fmt.Errorf("%s %s is writable by group or others (mode %04o)", what, path, mode.Perm())
	}
	return nil
}
