//go:build !go1.24

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// openRoot opens dir for lookups that may not leave it. Before Go 1.24
// (no os.Root) each name's symlinks are resolved and its real path must be
// inside dir's; unlike os.Root the check and the open are two steps, so a
// symlink swapped in between could still lead out: build with Go 1.24 or
// later where others can write inside the root.
func openRoot(dir string) (root, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	if real, err = filepath.Abs(real); err != nil {
		return nil, err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	return dirRoot(real), nil
}

type dirRoot string

var errEscapes = errors.New("path escapes from parent")

// resolve returns the real path of name, refusing one outside the root.
func (r dirRoot) resolve(op, name string) (string, error) {
	p, err := filepath.EvalSymlinks(filepath.Join(string(r), filepath.FromSlash(name)))
	if err != nil {
		return "", err
	}
	if p != string(r) && !strings.HasPrefix(p, string(r)+string(filepath.Separator)) {
		return "", &fs.PathError{Op: op, Path: name, Err: errEscapes}
	}
	return p, nil
}

func (r dirRoot) Stat(name string) (fs.FileInfo, error) {
	p, err := r.resolve("stat", name)
	if err != nil {
		return nil, err
	}
	return os.Stat(p)
}

func (r dirRoot) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	p, err := r.resolve("open", name)
	if err != nil {
		return nil, err
	}
	return os.OpenFile(p, flag, perm)
}

func (dirRoot) Close() error { return nil }
