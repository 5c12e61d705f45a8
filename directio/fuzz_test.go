package directio_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// FuzzReader reads random files from random offsets with random block
// sizes and depths, directly where possible, against a plain read.
func FuzzReader(f *testing.F) {
	f.Add(uint32(5000), uint32(0), uint16(1), uint8(1), uint16(100))
	f.Add(uint32(4096), uint32(4095), uint16(8), uint8(3), uint16(4096))
	f.Add(uint32(1<<20+7), uint32(513), uint16(0), uint8(0), uint16(65535))
	f.Add(uint32(0), uint32(0), uint16(0), uint8(0), uint16(1))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, size, start uint32, blocks uint16, depth uint8, readLen uint16) {
		size %= 3 << 20
		data := testutil.Data(uint64(size)+9, int(size))
		path := dir + "/f"
		require.NoError(t, os.WriteFile(path, data, 0o644))
		file, err := directio.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			file, err = os.Open(path)
		}
		require.NoError(t, err)
		defer file.Close()
		off := int64(start % (size + 1))
		_, err = file.Seek(off, io.SeekStart)
		require.NoError(t, err)
		r, err := directio.NewReader(file, &directio.ReaderOptions{BlockSize: int(blocks%64) * 4096, Depth: int(depth % 9)})
		require.NoError(t, err)
		var got bytes.Buffer
		buf := make([]byte, int(readLen)+1)
		for {
			n, err := r.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
		}
		require.NoError(t, r.Close())
		testutil.RequireBytes(t, data[off:], got.Bytes())
		require.Equal(t, int64(size), testutil.Offset(t, file))
	})
}
