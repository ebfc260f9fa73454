package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrChanged is returned by WriteFile when the file no longer holds what
// the edit was made from: someone saved it in between.
var ErrChanged = errors.New("the file changed while it was being edited")

// WriteFile replaces the file at path with data atomically: data goes to a
// temporary file in the same folder, with the old file's permissions (and
// owner, when that differs from the writer's), is synced and renamed over
// it, so a reader (the daemon's hot reload) sees the old file or the new
// one, never half of one. A symbolic link is followed and stays a link.
// If was is not nil and the file no longer holds was, nothing is written
// and the error wraps ErrChanged.
func WriteFile(path string, data, was []byte) (err error) {
	target := path
	if p, err := filepath.EvalSymlinks(path); err == nil {
		target = p
	}
	mode := fs.FileMode(0o644)
	fi, err := os.Stat(target)
	switch {
	case err == nil:
		mode = fi.Mode().Perm()
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if fi != nil {
		if err := keepOwner(tmp, fi); err != nil {
			return fmt.Errorf("write %s: %w: run this as the file's owner (or root), or edit the file by hand", path, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if was != nil {
		now, err := os.ReadFile(target)
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if !bytes.Equal(now, was) {
			return fmt.Errorf("write %s: %w: run the command again", path, ErrChanged)
		}
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The rename is durable once the folder is synced; where folders
	// cannot be synced the file is written all the same.
	if d, err := os.Open(filepath.Dir(target)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
