package mmap_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/mmap"
)

// TestAt: At gives every byte of the range (the offset handled inside),
// panics like a slice index out of range, and after Close panics with an
// error wrapping ErrClosed.
func TestAt(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(30, 3*page+123)
	f := testutil.File(t, t.TempDir(), "f", data)
	for _, off := range []int64{0, 1, int64(page) + 7} {
		m, err := mmap.Map(f, off, 0, mmap.ReadOnly)
		require.NoError(t, err)
		got := make([]byte, m.Len())
		for i := range got {
			got[i] = m.At(i)
		}
		testutil.RequireBytes(t, data[off:], got, "offset", off)
		for _, i := range []int{-1, m.Len(), m.Len() + page} {
			require.PanicsWithValue(t, "mmap: At: index "+itoa(i)+" out of range [0, "+itoa(m.Len())+")", func() { m.At(i) })
		}
		require.NoError(t, m.Close())
		err = panicValue(func() { m.At(0) })
		require.ErrorIs(t, err, mmap.ErrClosed)
		require.ErrorIs(t, err, os.ErrClosed)
	}
}

// TestAtTruncated: a byte no longer in the file panics with an error
// wrapping ErrTruncated, which recover catches, instead of SIGBUS.
func TestAtTruncated(t *testing.T) {
	if !realMaps() {
		t.Skip("the portable mapping is a copy: the file cannot shrink under it")
	}
	data := testutil.Data(31, 4*page)
	f := testutil.File(t, t.TempDir(), "f", data)
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	if !shrink(t, f, int64(page)) {
		require.Equal(t, data[3*page], m.At(3*page)) // Windows keeps the file whole
		return
	}
	require.Equal(t, data[page-1], m.At(page-1), "the kept page still reads")
	err = panicValue(func() { m.At(2*page + 5) })
	require.ErrorIs(t, err, mmap.ErrTruncated)
	require.Contains(t, err.Error(), "At")
}

// TestErrClosedIsOSErrClosed: every closed-mapping error is os.ErrClosed
// for errors.Is, as a closed *os.File's is, and keeps its own words.
func TestErrClosedIsOSErrClosed(t *testing.T) {
	require.ErrorIs(t, mmap.ErrClosed, os.ErrClosed)
	require.Equal(t, "mmap: mapping is closed", mmap.ErrClosed.Error())
	f := testutil.File(t, t.TempDir(), "f", testutil.Data(32, 100))
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	require.ErrorIs(t, m.Close(), os.ErrClosed)
	_, err = m.ReadAt(make([]byte, 1), 0)
	require.ErrorIs(t, err, os.ErrClosed)
	_, err = mmap.NewReader(m).Read(make([]byte, 1))
	require.ErrorIs(t, err, os.ErrClosed)
	require.False(t, errors.Is(mmap.ErrTruncated, os.ErrClosed))
}

// TestReader: Read, Seek and ReadAt agree with the bytes (testing/iotest's
// own checks), at several mapping offsets and sizes.
func TestReader(t *testing.T) {
	testutil.NoLeaks(t)
	for _, size := range []int{0, 1, 100, 3*page + 5} {
		data := testutil.Data(33, size+page)
		f := testutil.File(t, t.TempDir(), "f", data)
		for _, off := range []int64{0, int64(page) - 3} {
			mapOff := off
			if size == 0 {
				mapOff = int64(len(data)) // at EOF with length 0: empty
			}
			m, err := mmap.Map(f, mapOff, size, mmap.ReadOnly)
			require.NoError(t, err)
			want := data[mapOff : mapOff+int64(m.Len())]
			r := mmap.NewReader(m)
			require.Equal(t, int64(len(want)), r.Size())
			require.NoError(t, iotest.TestReader(r, want), "size %d offset %d", size, off)
			require.NoError(t, m.Close())
		}
	}
}

// TestReaderWriteTo: WriteTo sends from the position to the end and
// advances it, into a socket (the mapped pages written directly) and into
// a plain writer (through the bounce buffer).
func TestReaderWriteTo(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(34, 5*page+77)
	f := testutil.File(t, t.TempDir(), "f", data)
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })

	r := mmap.NewReader(m)
	head := make([]byte, page+3)
	_, err = io.ReadFull(r, head)
	require.NoError(t, err)
	c, s := testutil.TCPPair(t)
	got := testutil.Collect(t, s)
	n, err := io.Copy(c, r) // io.Copy takes r's WriteTo
	require.NoError(t, err)
	require.NoError(t, c.CloseWrite())
	require.Equal(t, int64(len(data)-len(head)), n)
	testutil.RequireBytes(t, data[len(head):], got())
	k, err := r.Read(make([]byte, 1))
	require.Equal(t, 0, k)
	require.ErrorIs(t, err, io.EOF, "WriteTo left the position at the end")

	var out bytes.Buffer
	pos, err := r.Seek(-100, io.SeekEnd)
	require.NoError(t, err)
	n, err = r.WriteTo(testutil.OnlyWriter{W: &out})
	require.NoError(t, err)
	require.Equal(t, int64(100), n)
	testutil.RequireBytes(t, data[pos:], out.Bytes())
	n, err = r.WriteTo(&out)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left")

	_, err = r.Seek(-1, io.SeekStart)
	require.Error(t, err)
	_, err = r.Seek(0, 7)
	require.Error(t, err)
}

// TestReaderTruncated: a Reader reports ErrTruncated as ReadAt does.
func TestReaderTruncated(t *testing.T) {
	if !realMaps() {
		t.Skip("the portable mapping is a copy")
	}
	data := testutil.Data(35, 4*page)
	f := testutil.File(t, t.TempDir(), "f", data)
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	if !shrink(t, f, int64(page)) {
		return
	}
	r := mmap.NewReader(m)
	b, err := io.ReadAll(r)
	require.ErrorIs(t, err, mmap.ErrTruncated)
	testutil.RequireBytes(t, data[:page], b)
	_, err = r.Seek(0, io.SeekStart)
	require.NoError(t, err)
	var out bytes.Buffer
	n, err := r.WriteTo(&out)
	require.ErrorIs(t, err, mmap.ErrTruncated)
	require.Equal(t, int64(page), n)
}

// panicValue runs f and returns the error it panicked with (nil if it did
// not panic or panicked with something else).
func panicValue(f func()) (err error) {
	defer func() { err, _ = recover().(error) }()
	f()
	return nil
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
