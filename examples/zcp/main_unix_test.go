//go:build unix

package main

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestKeepsMode: a new destination gets the source's permission bits minus
// the umask, as with cp; an existing one keeps its own.
func TestKeepsMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	src := filepath.Join(dir, "tool")
	check(t, os.WriteFile(src, []byte("#!/bin/sh\necho hi\n"), 0o777))
	check(t, os.Chmod(src, 0o777))
	dst := filepath.Join(dir, "copy")
	check(t, run(src, dst, false, io.Discard))
	fi, err := os.Stat(dst)
	check(t, err)
	equal(t, os.FileMode(0o755), fi.Mode().Perm())
	existing := filepath.Join(dir, "existing")
	check(t, os.WriteFile(existing, nil, 0o600))
	check(t, run(src, existing, false, io.Discard))
	fi, err = os.Stat(existing)
	check(t, err)
	equal(t, os.FileMode(0o600), fi.Mode().Perm())
	sameBytes(t, readFile(t, src), readFile(t, existing))
}
