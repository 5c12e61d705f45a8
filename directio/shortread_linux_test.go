//go:build linux && !purego

package directio_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/sys"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// TestReaderShortReads injects zero and short preads before the end of the
// file. The Reader must read again while fstat says bytes remain, and
// report (io.ErrUnexpectedEOF, naming the file and the offset) when a read
// keeps returning nothing or the file really shrank: never take either as
// the end of the file.
func TestReaderShortReads(t *testing.T) {
	const size = 8*4096 + 321
	const at = 2 * 4096 // where the fault hits: a block boundary
	data := testutil.Data(90, size)
	for _, tc := range []struct {
		name string
		// fault returns the result to give instead of the real pread at
		// off (call counts the faulty offset's calls from 1), and whether
		// to give it; real performs the real read on a (possibly shorter)
		// buffer.
		fault   func(path string, call int, p []byte, real func([]byte) (int, error)) (int, error, bool)
		wantN   int64
		wantErr string // "" for none; else a substring of the error, which wraps io.ErrUnexpectedEOF
	}{
		{"zero once", func(_ string, call int, _ []byte, _ func([]byte) (int, error)) (int, error, bool) {
			return 0, nil, call == 1
		}, size, ""},
		{"zero twice", func(_ string, call int, _ []byte, _ func([]byte) (int, error)) (int, error, bool) {
			return 0, nil, call <= 2
		}, size, ""},
		{"unaligned short once", func(_ string, call int, p []byte, real func([]byte) (int, error)) (int, error, bool) {
			if call != 1 {
				return 0, nil, false
			}
			n, err := real(p) // O_DIRECT refuses a 100-byte read: report 100 of a real one
			return min(n, 100), err, true
		}, size, ""},
		{"zero always", func(string, int, []byte, func([]byte) (int, error)) (int, error, bool) {
			return 0, nil, true
		}, at, fmt.Sprintf("at %d: 3 reads in a row stopped short", at)},
		{"file shrank", func(path string, call int, p []byte, real func([]byte) (int, error)) (int, error, bool) {
			if call == 1 {
				if err := os.Truncate(path, at+1000); err != nil {
					return 0, err, true
				}
			}
			return 0, nil, false
		}, at + 1000, fmt.Sprintf("at %d: the file shrank to %d bytes", at+1000, at+1000)},
	} {
		for _, plain := range []bool{false, true} {
			for _, how := range []string{"WriteTo", "Read"} {
				t.Run(fmt.Sprintf("%s/plain=%v/%s", tc.name, plain, how), func(t *testing.T) {
					testutil.NoLeaks(t)
					path := filepath.Join(t.TempDir(), "f")
					require.NoError(t, os.WriteFile(path, data, 0o644))
					f, direct := open(t, path, plain)
					require.Equal(t, !plain, direct, "ext4 takes O_DIRECT")
					calls := injectPread(t, func(call int, p []byte, real func([]byte) (int, error)) (int, error, bool) {
						return tc.fault(path, call, p, real)
					})
					r, err := directio.NewReader(f, &directio.ReaderOptions{BlockSize: 4096, Depth: 3})
					require.NoError(t, err)
					t.Cleanup(func() { _ = r.Close() })
					var got bytes.Buffer
					var n int64
					if how == "WriteTo" {
						n, err = r.WriteTo(&got)
					} else {
						n, err = io.Copy(&got, testutil.OnlyReader{R: r})
					}
					require.Equal(t, tc.wantN, n)
					require.Equal(t, sha256.Sum256(data[:tc.wantN]), sha256.Sum256(got.Bytes()), "the bytes that arrived")
					require.GreaterOrEqual(t, calls(), 1, "the fault was reached")
					if tc.wantErr == "" {
						require.NoError(t, err)
						return
					}
					require.ErrorIs(t, err, io.ErrUnexpectedEOF)
					require.ErrorContains(t, err, path)
					require.ErrorContains(t, err, tc.wantErr)
				})
			}
		}
	}
}

// injectPread replaces sys.Pread for the test: calls at file offset `at`
// go to fault first (numbered from 1); it returns the count of such calls.
func injectPread(t *testing.T, fault func(call int, p []byte, real func([]byte) (int, error)) (int, error, bool)) func() int {
	const at = 2 * 4096
	orig := sys.Pread
	t.Cleanup(func() { sys.Pread = orig })
	var mu sync.Mutex
	calls := 0
	sys.Pread = func(fd int, p []byte, off int64) (int, error) {
		if off != at {
			return orig(fd, p, off)
		}
		mu.Lock()
		calls++
		call := calls
		mu.Unlock()
		if n, err, ok := fault(call, p, func(b []byte) (int, error) { return orig(fd, b, off) }); ok {
			return n, err
		}
		return orig(fd, p, off)
	}
	return func() int { mu.Lock(); defer mu.Unlock(); return calls }
}

// TestReopenDirectNamesFile: the reopened descriptor carries the caller's
// file name, so a read error names that file, not /proc/self/fd/N.
func TestReopenDirectNamesFile(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(91, 3*4096)
	f := testutil.File(t, t.TempDir(), "src", data)
	g, err := directio.ReopenDirect(f, os.O_RDONLY)
	require.NoError(t, err)
	t.Cleanup(func() { _ = g.Close() })
	require.Equal(t, f.Name(), g.Name())
	injectPread(t, func(int, []byte, func([]byte) (int, error)) (int, error, bool) {
		return 0, syscall.EIO, true
	})
	r, err := directio.NewReader(g, &directio.ReaderOptions{BlockSize: 4096, Depth: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	var b bytes.Buffer
	n, err := r.WriteTo(&b)
	require.ErrorIs(t, err, syscall.EIO)
	require.Equal(t, int64(2*4096), n, "the bytes before the failing read")
	require.Equal(t, sha256.Sum256(data[:n]), sha256.Sum256(b.Bytes()))
	require.ErrorContains(t, err, f.Name())
	require.NotContains(t, err.Error(), "/proc/self/fd")
}
