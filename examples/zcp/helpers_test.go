package main

// Small test helpers, standard library only. Every example carries its own
// copy of the ones it uses, so that each examples/X folder can be copied out
// of the repository and tested on its own: the duplication is on purpose.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// data returns n pseudo-random bytes determined by seed.
func data(seed uint64, n int) []byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	b := make([]byte, n)
	fill(rand.NewChaCha8(s), b)
	return b
}

// sum is the hex SHA-256 of b.
func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// check stops the test if err is not nil.
func check(t testing.TB, err error, what ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%v: unexpected error: %v", what, err)
	}
}

// equal stops the test unless got == want.
func equal[T comparable](t testing.TB, want, got T, what ...any) {
	t.Helper()
	if got != want {
		t.Fatalf("%v: got %v, want %v", what, got, want)
	}
}

// sameBytes stops the test unless got is exactly want; it prints lengths
// and digests, not megabytes.
func sameBytes(t testing.TB, want, got []byte, what ...any) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	t.Fatalf("%v: got %d bytes sha256 %s, want %d bytes sha256 %s; first difference at byte %d",
		what, len(got), sum(got), len(want), sum(want), i)
}

// mustContain stops the test unless s contains sub.
func mustContain(t testing.TB, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q does not contain %q", s, sub)
	}
}

// readFile returns the contents of the file at path.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	check(t, err, "read", path)
	return b
}

// symlink makes the symbolic link link -> target and reports whether the
// system made one. Windows refuses without the privilege (developer mode
// or an administrator), and Wine 8 reports success without making any
// (Lstat then finds nothing): tests of symlinks skip there, saying why.
func symlink(t testing.TB, target, link string) bool {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		if runtime.GOOS == "windows" {
			t.Logf("no symlinks on this system: %v", err)
			return false
		}
		t.Fatalf("symlink: %v", err)
	}
	if _, err := os.Lstat(link); err != nil {
		t.Logf("os.Symlink made no link (Wine 8 does that): %v", err)
		return false
	}
	return true
}

// notExistText is what this system says of a missing file ("no such file
// or directory" on Unix, "The system cannot find the file specified." on
// Windows): the text a message about one contains.
func notExistText(t testing.TB) string {
	t.Helper()
	_, err := os.Stat(filepath.Join(t.TempDir(), "missing"))
	var pe *os.PathError
	if !errors.As(err, &pe) {
		t.Fatalf("stat of a missing file: %v", err)
	}
	return pe.Err.Error()
}

// goBuild builds this package's command into dir and returns its path, or
// skips the test where no go command is in PATH (under Wine there is none).
func goBuild(t testing.TB, dir, name string) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build %s with: %v", name, err)
	}
	bin := filepath.Join(dir, name)
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command(gocmd, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// fill fills b from c (ChaCha8.Read needs Go 1.23; the module supports 1.22).
func fill(c *rand.ChaCha8, b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := c.Uint64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}
