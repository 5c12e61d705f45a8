package main

// Small test helpers, standard library only. Every example carries its own
// copy of the ones it uses, so that each examples/X folder can be copied out
// of the repository and tested on its own: the duplication is on purpose.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
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

// eventually waits (sleeping, not spinning) up to d for cond.
func eventually(t testing.TB, d time.Duration, cond func() bool, what string) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("after %v: %s", d, what)
		}
	}
}

// noLeaks fails the test if, when it ends, a descriptor opened since is
// still open or more goroutines run than now (waiting up to 5 s for them
// to finish). Call it first, so it runs after the test's own cleanups.
// Pipes are left out: zerocopy keeps a bounded pool of idle kernel pipes
// for splice on purpose. Not for parallel tests.
func noLeaks(t *testing.T) {
	t.Helper()
	fds0, g0 := openFDs(), runtime.NumGoroutine()
	t.Cleanup(func() {
		var leaked []string
		var n int
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			leaked, n = nil, runtime.NumGoroutine()
			for _, fd := range openFDs() {
				if !slices.Contains(fds0, fd) {
					target, _ := os.Readlink("/proc/self/fd/" + fd)
					if !strings.HasPrefix(target, "pipe:") {
						leaked = append(leaked, fd+" -> "+target)
					}
				}
			}
			if (len(leaked) == 0 && n <= g0) || time.Now().After(end) {
				break
			}
		}
		if len(leaked) > 0 {
			t.Errorf("descriptors leaked: %v", leaked)
		}
		if n > g0 {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines running, %d before the test:\n%s", n, g0, buf[:runtime.Stack(buf, true)])
		}
	})
}

// openFDs lists /proc/self/fd (nil where there is none).
func openFDs() []string {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	return names
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
