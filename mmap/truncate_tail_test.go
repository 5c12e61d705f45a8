package mmap_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/mmap"
)

// TestTruncatedCountsFileBytes: after a fault, the counts of ReadAt,
// WriteAt and WriteTo (to a file, a socket and a plain writer) cover the
// file's bytes only, never the zero-filled rest of its last page, and
// WriteTo sends none of those zeros. The first sizes are the issue's: a
// 40,963-byte file truncated to 20,487 returned n = 24,576. The second puts
// the zero fill at the end of one 64 KiB WriteTo chunk and the missing page
// at the start of the next.
func TestTruncatedCountsFileBytes(t *testing.T) {
	if !realMaps() {
		t.Skip("the portable mapping is a copy: the file cannot shrink under it")
	}
	testutil.SkipUnlessFaultAddresses(t)
	testutil.NoLeaks(t)
	for _, sz := range []struct{ size, cut int64 }{{40963, 20487}, {3*65536 + 100, 65536 - 1000}} {
		data := testutil.Data(uint64(sz.size), int(sz.size))
		for _, mode := range modes() {
			for _, off := range []int64{0, 100, int64(page) + 1} {
				for _, how := range []string{"ReadAt", "WriteAt", "WriteTo file", "WriteTo socket", "WriteTo buffer"} {
					if how == "WriteAt" && mode == mmap.ReadOnly {
						continue
					}
					t.Run(fmt.Sprintf("%d->%d/%v/off=%d/%s", sz.size, sz.cut, mode, off, how), func(t *testing.T) {
						f := testutil.File(t, t.TempDir(), "f", data)
						m, err := mmap.Map(f, off, 0, mode)
						require.NoError(t, err)
						t.Cleanup(func() { _ = m.Close() })
						if !shrink(t, f, sz.cut) {
							return
						}
						want := sz.cut - off // the file's bytes in the mapping now
						var n int64
						var got []byte
						switch how {
						case "ReadAt":
							p := make([]byte, sz.size-off)
							k, err := m.ReadAt(p, 0)
							require.ErrorIs(t, err, mmap.ErrTruncated)
							n, got = int64(k), p[:k]
						case "WriteAt":
							p := testutil.Data(7, int(sz.size-off))
							k, err := m.WriteAt(p, 0)
							require.ErrorIs(t, err, mmap.ErrTruncated)
							require.Equal(t, want, int64(k))
							file := testutil.ReadFile(t, f.Name())
							require.Len(t, file, int(sz.cut))
							wantFile := data[:sz.cut]
							if mode == mmap.ReadWrite {
								wantFile = append(append([]byte(nil), data[:off]...), p[:want]...)
							}
							require.Equal(t, sha256.Sum256(wantFile), sha256.Sum256(file))
							return
						case "WriteTo file":
							out := testutil.File(t, t.TempDir(), "out", nil)
							n, err = m.WriteTo(out)
							require.ErrorIs(t, err, mmap.ErrTruncated)
							got = testutil.ReadFile(t, out.Name())
						case "WriteTo socket":
							c, s := testutil.TCPPair(t)
							collect := testutil.Collect(t, s)
							n, err = m.WriteTo(c)
							require.ErrorIs(t, err, mmap.ErrTruncated)
							require.NoError(t, c.CloseWrite())
							got = collect()
						case "WriteTo buffer":
							var b bytes.Buffer
							n, err = m.WriteTo(testutil.OnlyWriter{W: &b})
							require.ErrorIs(t, err, mmap.ErrTruncated)
							got = b.Bytes()
						}
						require.Equal(t, want, n, "n counts the file's bytes only")
						require.Len(t, got, int(want), "what arrived")
						require.Equal(t, sha256.Sum256(data[off:sz.cut]), sha256.Sum256(got))
					})
				}
			}
		}
	}
}
