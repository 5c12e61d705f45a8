// Package testutil is the test kit shared by every package of the module:
// seeded data and SHA-256 checks, files (sparse ones too), loopback socket
// pairs and pipes, a syscall.Conn-only wrapper type, fault injection through
// internal/sys, and fd and goroutine leak checks.
package testutil

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

var dataCache sync.Map // [2]int64{seed,n} -> []byte

// Data returns n pseudo-random bytes determined by seed. The slice is shared
// between callers with the same arguments: do not modify it.
func Data(seed uint64, n int) []byte {
	key := [2]uint64{seed, uint64(n)}
	if b, ok := dataCache.Load(key); ok {
		return b.([]byte)
	}
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	b := make([]byte, n)
	fill(rand.NewChaCha8(s), b)
	v, _ := dataCache.LoadOrStore(key, b)
	return v.([]byte)
}

// SHA returns the hex SHA-256 of b.
func SHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// RequireBytes fails t unless got is exactly want, comparing SHA-256 digests
// (and lengths) so a mismatch prints two short lines, not megabytes.
func RequireBytes(t testing.TB, want, got []byte, msgAndArgs ...any) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	require.Failf(t, "bytes differ",
		"want %d bytes sha256 %s, got %d bytes sha256 %s; first difference at byte %d. %v",
		len(want), SHA(want), len(got), SHA(got), i, msgAndArgs)
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
