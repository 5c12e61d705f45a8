//go:build linux && !purego

package directio_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

const fsizeEnv = "ZEROCOPY_FSIZE_CHILD"

// TestWriterFileSizeLimit: under RLIMIT_FSIZE the kernel shortens a direct
// write to an unaligned length and refuses it (EINVAL). The Writer must
// write exactly the bytes the limit allows, as io.Copy does, and return
// EFBIG. The limit is set in a child process (the test binary again), so
// it binds nothing else.
func TestWriterFileSizeLimit(t *testing.T) {
	if os.Getenv(fsizeEnv) != "" {
		fsizeChild(t)
		return
	}
	cmd := testutil.Command(t, os.Args[0], "-test.run=^TestWriterFileSizeLimit$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), fsizeEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "--- PASS: TestWriterFileSizeLimit")
	require.Contains(t, string(out), "direct=true", "the direct cases ran")
}

func fsizeChild(t *testing.T) {
	data := testutil.Data(95, 3<<20+77)
	for _, limit := range []int64{1000000, 2500000, 1 << 20} {
		for _, plain := range []bool{false, true} {
			for _, how := range []string{"Write", "ReadFrom", "io.Copy"} {
				t.Run(fmt.Sprintf("limit=%d/plain=%v/%s", limit, plain, how), func(t *testing.T) {
					require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(limit), Max: ^uint64(0)}))
					t.Cleanup(func() {
						_ = syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: ^uint64(0), Max: ^uint64(0)})
					})
					path := filepath.Join(t.TempDir(), "dst")
					var f *os.File
					var err error
					if plain {
						f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
					} else {
						f, err = directio.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
					}
					require.NoError(t, err)
					defer f.Close()
					w, err := directio.NewWriter(f)
					require.NoError(t, err)
					require.Equal(t, !plain, w.Direct())
					t.Logf("direct=%v", w.Direct())
					var n int64
					switch how {
					case "Write":
						var k int
						k, err = w.Write(data)
						n = int64(k)
					case "ReadFrom":
						n, err = w.ReadFrom(testutil.OnlyReader{R: bytes.NewReader(data)})
					case "io.Copy":
						n, err = io.Copy(w, testutil.OnlyReader{R: bytes.NewReader(data)})
					}
					cerr := w.Close()
					require.ErrorIs(t, err, syscall.EFBIG, "the real error, not EINVAL")
					require.ErrorIs(t, cerr, syscall.EFBIG)
					require.Equal(t, limit, n, "the count is the bytes that reached the file")
					got := testutil.ReadFile(t, path)
					require.Equal(t, int(limit), len(got))
					require.Equal(t, sha256.Sum256(data[:limit]), sha256.Sum256(got))
				})
			}
		}
	}
}
