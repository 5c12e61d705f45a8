package zerocopy_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// FuzzSendFile checks SendFile differentially against a plain pread copy
// over random file sizes, offsets and counts, into a file (copy_file_range
// path) and into a pipe (sendfile path).
func FuzzSendFile(f *testing.F) {
	for _, seed := range [][3]int64{
		{0, 0, -1}, {1, 0, 1}, {4097, 4095, -1}, {65537, 1, 65535}, {4096, 4096, 1},
		{100, 200, -1}, {100, 50, 1000}, {1 << 20, 3, -5}, {513, 512, 0},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, size, offset, count int64) {
		size = abs(size) % (3 << 20)
		if count < -1 {
			count = -1
		}
		count %= 4 << 20
		data := testutil.Data(uint64(size), int(size))
		src := testutil.File(t, dir, "src", data)

		// The oracle: pread through a SectionReader.
		want, wantEOF := oracle(src, offset, count)

		out := testutil.File(t, dir, "dst", nil)
		n, err := zerocopy.SendFile(out, src, offset, count)
		if offset < 0 {
			require.Error(t, err)
			require.Zero(t, n)
			return
		}
		checkSend(t, n, err, want, wantEOF)
		testutil.RequireBytes(t, want, testutil.ReadFile(t, out.Name()))

		r, w := testutil.Pipe(t)
		got := testutil.Collect(t, r)
		n, err = zerocopy.SendFile(w, src, offset, count)
		checkSend(t, n, err, want, wantEOF)
		require.NoError(t, w.Close())
		testutil.RequireBytes(t, want, got())
		require.Zero(t, testutil.Offset(t, src), "the file offset never moves")
	})
}

func abs(v int64) int64 {
	if v < 0 {
		if v == -v { // MinInt64
			return 0
		}
		return -v
	}
	return v
}

func oracle(f *os.File, offset, count int64) (want []byte, unexpectedEOF bool) {
	if offset < 0 {
		return nil, false
	}
	fi, _ := f.Stat()
	size := fi.Size()
	var b bytes.Buffer
	if offset < size {
		_, _ = io.Copy(&b, io.NewSectionReader(f, offset, size-offset))
	}
	want = b.Bytes()
	if count >= 0 {
		if int64(len(want)) > count {
			want = want[:count]
		}
		return want, int64(len(want)) < count
	}
	return want, false
}

func checkSend(t *testing.T, n int64, err error, want []byte, unexpectedEOF bool) {
	t.Helper()
	if unexpectedEOF {
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	} else {
		require.NoError(t, err)
	}
	require.Equal(t, int64(len(want)), n)
}

// FuzzCopyLimits checks Copy and CopyN through LimitedReader and
// SectionReader wrappers against io.Copy on a plain reader.
func FuzzCopyLimits(f *testing.F) {
	f.Add(int64(5000), int64(3), int64(100), int64(-1))
	f.Add(int64(0), int64(0), int64(0), int64(0))
	f.Add(int64(70000), int64(65536), int64(10), int64(7))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, size, start, limit, n int64) {
		size = abs(size) % (1 << 20)
		start = abs(start) % (size + 2)
		limit = limit % (2 << 20)
		data := testutil.Data(uint64(size)+1, int(size))
		src := testutil.File(t, dir, "src", data)
		_, err := src.Seek(start, io.SeekStart)
		require.NoError(t, err)

		var want []byte
		if start < size {
			want = data[start:]
		}
		lr := &io.LimitedReader{R: src, N: limit}
		if limit >= 0 && int64(len(want)) > limit {
			want = want[:limit]
		}
		if limit < 0 {
			want = nil
		}
		out := testutil.File(t, dir, "dst", nil)
		var got int64
		if n >= 0 {
			got, err = zerocopy.CopyN(out, lr, n)
			if int64(len(want)) > n {
				want = want[:n]
			}
			if n > 0 && int64(len(want)) < n {
				require.ErrorIs(t, err, io.EOF)
			} else {
				require.NoError(t, err)
			}
		} else {
			got, err = zerocopy.Copy(out, lr)
			require.NoError(t, err)
		}
		require.Equal(t, int64(len(want)), got)
		testutil.RequireBytes(t, want, testutil.ReadFile(t, out.Name()))
		require.Equal(t, start+got, testutil.Offset(t, src))
		if limit >= 0 {
			require.Equal(t, limit-got, lr.N)
		}
	})
}
