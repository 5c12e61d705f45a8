package main

// Small test helpers, standard library only. Every example carries its own
// copy of the ones it uses, so that each examples/X folder can be copied out
// of the repository and tested on its own: the duplication is on purpose.

import (
	"os"
	"strings"
	"testing"
)

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
