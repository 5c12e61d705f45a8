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
	_, _ = rand.NewChaCha8(s).Read(b)
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
