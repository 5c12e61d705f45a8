package mmap_test

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/mmap"
)

// FuzzReadAt maps random windows of random files and checks ReadAt, and
// the mapped bytes, against os.File.ReadAt.
func FuzzReadAt(f *testing.F) {
	f.Add(uint32(5000), uint32(1), uint32(0), int64(0), uint16(100))
	f.Add(uint32(4096), uint32(4095), uint32(1), int64(0), uint16(1))
	f.Add(uint32(12289), uint32(4097), uint32(0), int64(8000), uint16(9000))
	f.Add(uint32(0), uint32(0), uint32(0), int64(0), uint16(0))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, size, offset, length uint32, readOff int64, readLen uint16) {
		size %= 1 << 20
		data := testutil.Data(uint64(size), int(size))
		file := testutil.File(t, dir, "f", data)
		off := int64(offset % (size + 1))
		ln := int(int64(length) % (int64(size) - off + 1))
		m, err := mmap.Map(file, off, ln, mmap.ReadOnly)
		require.NoError(t, err)
		defer m.Close()
		want := data[off:]
		if ln > 0 {
			want = want[:ln]
		}
		testutil.RequireBytes(t, want, m.Bytes())

		got := make([]byte, readLen)
		n, err := m.ReadAt(got, readOff)
		if readOff < 0 {
			require.Error(t, err)
			return
		}
		// The oracle: pread from the file, clipped to the window.
		oracle := make([]byte, readLen)
		var k int
		if readOff < int64(len(want)) {
			k = copy(oracle, want[readOff:])
		}
		require.Equal(t, k, n)
		testutil.RequireBytes(t, oracle[:k], got[:n])
		if k < int(readLen) {
			require.ErrorIs(t, err, io.EOF)
		} else {
			require.NoError(t, err)
		}
		// And os.File.ReadAt at the same file offset agrees.
		if k > 0 {
			pb := make([]byte, k)
			_, err := file.ReadAt(pb, off+readOff)
			if err != nil {
				require.ErrorIs(t, err, io.EOF)
			}
			testutil.RequireBytes(t, pb, got[:n])
		}
	})
}
