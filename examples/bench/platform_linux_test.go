package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMemoryCgroup: the cgroup v2 and v1 layouts, on a fake /sys/fs/cgroup
// (plain files, as the kernel's look to open/read/write).
func TestMemoryCgroup(t *testing.T) {
	t.Run("v2", func(t *testing.T) {
		fs := t.TempDir()
		check(t, os.WriteFile(filepath.Join(fs, "cgroup.controllers"), []byte("cpuset cpu io memory pids\n"), 0o644))
		check(t, os.WriteFile(filepath.Join(fs, "cgroup.subtree_control"), []byte("cpu pids\n"), 0o644))
		dir, cleanup, skip, err := memoryCgroup(fs, 512<<20)
		check(t, err)
		equal(t, "", skip)
		equal(t, filepath.Join(fs, filepath.Base(dir)), dir)
		equal(t, "536870912", string(readFile(t, filepath.Join(dir, "memory.max"))))
		equal(t, "+memory", string(readFile(t, filepath.Join(fs, "cgroup.subtree_control"))), "memory enabled for children")
		check(t, os.Remove(filepath.Join(dir, "memory.max"))) // the kernel's files go with the dir
		cleanup()
		if exists(dir) {
			t.Fatal("cgroup not removed")
		}
	})
	t.Run("v2 without memory", func(t *testing.T) {
		fs := t.TempDir()
		check(t, os.WriteFile(filepath.Join(fs, "cgroup.controllers"), []byte("cpu pids\n"), 0o644))
		_, _, skip, err := memoryCgroup(fs, 1)
		check(t, err)
		mustContain(t, skip, "without the memory controller")
	})
	t.Run("v1", func(t *testing.T) {
		fs := t.TempDir()
		check(t, os.Mkdir(filepath.Join(fs, "memory"), 0o755))
		check(t, os.WriteFile(filepath.Join(fs, "memory", "memory.limit_in_bytes"), []byte("9223372036854771712\n"), 0o644))
		dir, cleanup, skip, err := memoryCgroup(fs, 512<<20)
		check(t, err)
		equal(t, "", skip)
		equal(t, filepath.Join(fs, "memory", filepath.Base(dir)), dir)
		equal(t, "536870912", string(readFile(t, filepath.Join(dir, "memory.limit_in_bytes"))))
		check(t, os.Remove(filepath.Join(dir, "memory.limit_in_bytes")))
		cleanup()
	})
	t.Run("none", func(t *testing.T) {
		_, _, skip, err := memoryCgroup(t.TempDir(), 1)
		check(t, err)
		mustContain(t, skip, "no memory cgroup")
	})
}
