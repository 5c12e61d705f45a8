package mmap_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/mmap"
)

var page = os.Getpagesize()

// realMaps reports whether this build maps with mmap(2) (shared pages,
// ReadWrite available), as opposed to the portable in-memory copy.
func realMaps() bool { return mmap.ReadWriteSupported }

func modes() []mmap.Mode {
	if realMaps() {
		return []mmap.Mode{mmap.ReadOnly, mmap.ReadWrite, mmap.CopyOnWrite}
	}
	return []mmap.Mode{mmap.ReadOnly, mmap.CopyOnWrite}
}

func TestMapTable(t *testing.T) {
	testutil.NoLeaks(t)
	const size = 3*4096 + 123
	data := testutil.Data(1, size)
	offsets := []int64{0, 1, int64(page) - 1, int64(page), int64(page) + 1, size - 1, size}
	for _, mode := range modes() {
		for _, off := range offsets {
			for _, length := range []int{0, 1, page - 1, page + 1, int(size - off)} {
				if int64(length) > size-off {
					continue
				}
				t.Run(fmt.Sprintf("%v/off=%d/len=%d", mode, off, length), func(t *testing.T) {
					checkMapping(t, data, 0, off, length, mode)
				})
			}
		}
	}
}

// TestMapPast4GiB maps a window of a sparse file past 4 GiB.
func TestMapPast4GiB(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(2, 3*page+7)
	const base = 5<<30 + 17
	for _, mode := range modes() {
		for _, off := range []int64{base, base + 1, base + int64(page)} {
			t.Run(fmt.Sprintf("%v/%d", mode, off), func(t *testing.T) {
				checkMapping(t, data, base, off, 0, mode)
			})
		}
	}
}

// checkMapping puts data at fileBase in a fresh file, maps [off, off+length)
// and checks contents, ReadAt, WriteAt and where writes land.
func checkMapping(t *testing.T, data []byte, fileBase, off int64, length int, mode mmap.Mode) {
	dir := t.TempDir()
	f := testutil.SparseFile(t, dir, "f", fileBase, data)
	content := func() []byte { // reopen and read the file's data region
		g, err := os.Open(f.Name())
		require.NoError(t, err)
		defer g.Close()
		b := make([]byte, len(data))
		_, err = g.ReadAt(b, fileBase)
		require.NoError(t, err)
		return b
	}
	want := data[off-fileBase:]
	if length > 0 {
		want = want[:length]
	}
	m, err := mmap.Map(f, off, length, mode)
	require.NoError(t, err)
	require.NoError(t, f.Close(), "the caller may close f at once")
	t.Cleanup(func() { _ = m.Close() })
	require.Equal(t, len(want), m.Len())
	testutil.RequireBytes(t, want, m.Bytes())

	// ReadAt at a few offsets, including the end (io.EOF).
	got := make([]byte, len(want))
	n, err := m.ReadAt(got, 0)
	require.NoError(t, err)
	require.Equal(t, len(want), n)
	testutil.RequireBytes(t, want, got)
	n, err = m.ReadAt(make([]byte, 10), int64(len(want)))
	require.Equal(t, 0, n)
	require.ErrorIs(t, err, io.EOF)
	if len(want) > 1 {
		buf := make([]byte, 10)
		n, err = m.ReadAt(buf, int64(len(want))-1)
		require.ErrorIs(t, err, io.EOF)
		require.Equal(t, 1, n)
		require.Equal(t, want[len(want)-1], buf[0])
	}

	// WriteAt: refused, private or shared by mode.
	if len(want) == 0 {
		return
	}
	patch := []byte{^want[0]}
	n, err = m.WriteAt(patch, 0)
	switch mode {
	case mmap.ReadOnly:
		require.ErrorIs(t, err, mmap.ErrReadOnly)
		require.Zero(t, n)
		testutil.RequireBytes(t, data, content())
	case mmap.ReadWrite:
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.NoError(t, m.Sync())
		after := content() // reopened and read: the write reached the file
		require.Equal(t, patch[0], after[off-fileBase])
		require.Equal(t, patch[0], m.Bytes()[0])
	case mmap.CopyOnWrite:
		require.NoError(t, err)
		require.Equal(t, patch[0], m.Bytes()[0], "this process sees its write")
		testutil.RequireBytes(t, data, content(), "the file never does")
	}
}

func TestMapErrors(t *testing.T) {
	testutil.NoLeaks(t)
	dir := t.TempDir()
	f := testutil.File(t, dir, "f", testutil.Data(3, 1000))
	for _, tc := range []struct {
		name      string
		off       int64
		length    int
		mode      mmap.Mode
		wantError string
	}{
		{"negative offset", -1, 0, mmap.ReadOnly, "mmap: Map: negative offset -1"},
		{"negative length", 0, -1, mmap.ReadOnly, "mmap: Map: negative length -1"},
		{"offset past EOF", 1001, 0, mmap.ReadOnly, "mmap: Map: offset 1001 is past the end"},
		{"range past EOF", 500, 501, mmap.ReadOnly, "mmap: Map: range [500, 1001) is past the end"},
		{"unknown mode", 0, 0, mmap.Mode(7), "mmap: Map: unknown Mode(7)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := mmap.Map(f, tc.off, tc.length, tc.mode)
			require.Nil(t, m)
			require.ErrorContains(t, err, tc.wantError)
		})
	}
	_, err := mmap.Map(nil, 0, 0, mmap.ReadOnly)
	require.ErrorContains(t, err, "nil *os.File")
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly) // still usable after the failures
	require.NoError(t, err)
	require.NoError(t, m.Close())

	if realMaps() {
		ro, err := os.Open(f.Name())
		require.NoError(t, err)
		t.Cleanup(func() { _ = ro.Close() })
		_, err = mmap.Map(ro, 0, 0, mmap.ReadWrite)
		require.ErrorContains(t, err, "ReadWrite needs")
	} else {
		_, err = mmap.Map(f, 0, 0, mmap.ReadWrite)
		require.ErrorIs(t, err, errors.ErrUnsupported)
	}

	dirf, err := os.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = dirf.Close() })
	_, err = mmap.Map(dirf, 0, 0, mmap.ReadOnly)
	require.ErrorContains(t, err, "not a regular file")

	closed := testutil.File(t, dir, "closed", []byte("x"))
	require.NoError(t, closed.Close())
	_, err = mmap.Map(closed, 0, 0, mmap.ReadOnly)
	require.ErrorIs(t, err, os.ErrClosed)

	_, err = mmap.Open(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestEmpty(t *testing.T) {
	testutil.NoLeaks(t)
	dir := t.TempDir()
	empty := testutil.File(t, dir, "empty", nil)
	full := testutil.File(t, dir, "full", testutil.Data(4, 100))
	for name, open := range map[string]func() (*mmap.Mapping, error){
		"empty file":    func() (*mmap.Mapping, error) { return mmap.Map(empty, 0, 0, mmap.ReadOnly) },
		"open empty":    func() (*mmap.Mapping, error) { return mmap.Open(empty.Name()) },
		"at EOF":        func() (*mmap.Mapping, error) { return mmap.Map(full, 100, 0, mmap.CopyOnWrite) },
		"empty for COW": func() (*mmap.Mapping, error) { return mmap.Map(empty, 0, 0, mmap.CopyOnWrite) },
	} {
		t.Run(name, func(t *testing.T) {
			m, err := open()
			require.NoError(t, err)
			require.Zero(t, m.Len())
			require.Empty(t, m.Bytes())
			n, err := m.ReadAt(make([]byte, 1), 0)
			require.Zero(t, n)
			require.ErrorIs(t, err, io.EOF)
			var b bytes.Buffer
			k, err := m.WriteTo(&b)
			require.NoError(t, err)
			require.Zero(t, k)
			require.NoError(t, m.Sync())
			require.NoError(t, m.Advise(mmap.Sequential))
			require.NoError(t, m.Lock())
			require.NoError(t, m.Unlock())
			require.NoError(t, m.Close())
		})
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	testutil.NoLeaks(t)
	f := testutil.File(t, t.TempDir(), "f", testutil.Data(5, 10000))
	m, err := mmap.Map(f, 0, 0, mmap.CopyOnWrite)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	require.ErrorIs(t, m.Close(), mmap.ErrClosed)
	require.Nil(t, m.Bytes())
	require.Zero(t, m.Len())
	_, err = m.ReadAt(make([]byte, 1), 0)
	require.ErrorIs(t, err, mmap.ErrClosed)
	_, err = m.WriteAt([]byte{1}, 0)
	require.ErrorIs(t, err, mmap.ErrClosed)
	_, err = m.WriteTo(io.Discard)
	require.ErrorIs(t, err, mmap.ErrClosed)
	require.ErrorIs(t, m.Sync(), mmap.ErrClosed)
	require.ErrorIs(t, m.Advise(mmap.Random), mmap.ErrClosed)
	require.ErrorIs(t, m.Lock(), mmap.ErrClosed)
	require.ErrorIs(t, m.Unlock(), mmap.ErrClosed)
	require.ErrorIs(t, m.Resize(10), mmap.ErrClosed)
}

func TestBadArguments(t *testing.T) {
	f := testutil.File(t, t.TempDir(), "f", testutil.Data(6, 10000))
	m, err := mmap.Map(f, 0, 0, mmap.CopyOnWrite)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	_, err = m.ReadAt(make([]byte, 1), -1)
	require.ErrorContains(t, err, "mmap: ReadAt: negative offset")
	_, err = m.WriteAt([]byte{1}, -1)
	require.ErrorContains(t, err, "mmap: WriteAt: negative offset")
	_, err = m.WriteAt([]byte{1, 2}, 9999)
	require.ErrorContains(t, err, "past the end of the 10000-byte mapping")
	require.ErrorContains(t, m.Advise(mmap.Advice(99)), "unknown advice")
	require.ErrorContains(t, m.Resize(-1), "negative length")
	require.ErrorContains(t, m.Resize(10001), "grow the file first")
}

func TestWriteTo(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(7, 1<<20+7)
	f := testutil.File(t, t.TempDir(), "f", data)
	m, err := mmap.Map(f, 5, 0, mmap.ReadOnly)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })

	var b bytes.Buffer
	n, err := m.WriteTo(testutil.OnlyWriter{W: &b})
	require.NoError(t, err)
	require.Equal(t, int64(len(data)-5), n)
	testutil.RequireBytes(t, data[5:], b.Bytes())

	c, s := testutil.TCPPair(t)
	got := testutil.Collect(t, s)
	n, err = m.WriteTo(c)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)-5), n)
	require.NoError(t, c.CloseWrite())
	testutil.RequireBytes(t, data[5:], got())
}

func TestConcurrentReadAt(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(8, 4<<20)
	f := testutil.File(t, t.TempDir(), "f", data)
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096+g)
			for i := range 200 {
				off := int64((g*7919 + i*104729) % (len(data) - len(buf)))
				n, err := m.ReadAt(buf, off)
				if err != nil || n != len(buf) || !bytes.Equal(buf, data[off:off+int64(n)]) {
					errs <- fmt.Errorf("goroutine %d read %d at %d: %v", g, n, off, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, m.Close())
}

func TestResizeGrowingFile(t *testing.T) {
	testutil.NoLeaks(t)
	dir := t.TempDir()
	data := testutil.Data(9, 5*page+3)
	f := testutil.File(t, dir, "log", data[:page+1]) // starts small
	for _, mode := range modes() {
		t.Run(mode.String(), func(t *testing.T) {
			require.NoError(t, os.WriteFile(f.Name(), data[:page+1], 0o644))
			m, err := mmap.Map(f, 3, 0, mode)
			require.NoError(t, err)
			t.Cleanup(func() { _ = m.Close() })
			require.Equal(t, page-2, m.Len())

			// The log grows; the mapping follows.
			app, err := os.OpenFile(f.Name(), os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = app.Write(data[page+1:])
			require.NoError(t, err)
			require.NoError(t, app.Close())
			require.NoError(t, m.Resize(len(data)-3))
			require.Equal(t, len(data)-3, m.Len())
			testutil.RequireBytes(t, data[3:], m.Bytes())
			got := make([]byte, 100)
			n, err := m.ReadAt(got, int64(len(data)-103))
			require.NoError(t, err)
			testutil.RequireBytes(t, data[len(data)-100:], got[:n])

			// Shrink, then to zero, then back.
			require.NoError(t, m.Resize(10))
			testutil.RequireBytes(t, data[3:13], m.Bytes())
			require.NoError(t, m.Resize(0))
			require.Zero(t, m.Len())
			require.NoError(t, m.Resize(page))
			testutil.RequireBytes(t, data[3:3+page], m.Bytes())
		})
	}
}

// TestResizeFromEmpty grows a mapping of an empty file: no mapping existed.
func TestResizeFromEmpty(t *testing.T) {
	testutil.NoLeaks(t)
	f := testutil.File(t, t.TempDir(), "log", nil)
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	data := testutil.Data(10, 3*page)
	_, err = f.Write(data)
	require.NoError(t, err)
	require.NoError(t, m.Resize(len(data)))
	testutil.RequireBytes(t, data, m.Bytes())
}

func TestAdviseAndLock(t *testing.T) {
	testutil.NoLeaks(t)
	f := testutil.File(t, t.TempDir(), "f", testutil.Data(11, 1<<20))
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	for _, a := range []mmap.Advice{mmap.Normal, mmap.Sequential, mmap.Random, mmap.WillNeed, mmap.DontNeed} {
		err := m.Advise(a)
		if realMaps() && runtime.GOOS == "windows" && (a == mmap.Sequential || a == mmap.Random) {
			require.ErrorIs(t, err, errors.ErrUnsupported, "Windows has no access-pattern hint for a view")
			continue
		}
		require.NoError(t, err)
	}
	testutil.RequireBytes(t, testutil.Data(11, 1<<20), m.Bytes(), "DontNeed re-reads from the file")
	err = m.Lock()
	if !realMaps() {
		require.ErrorIs(t, err, errors.ErrUnsupported)
		return
	}
	require.NoError(t, err)
	require.NoError(t, m.Unlock())
}

// TestCleanupUnmaps drops a Mapping without Close: the garbage collector's
// cleanup closes its descriptor.
func TestCleanupUnmaps(t *testing.T) {
	testutil.NoLeaks(t) // fails the test if the duplicated fd stays open
	f := testutil.File(t, t.TempDir(), "f", testutil.Data(12, 10000))
	func() {
		m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
		require.NoError(t, err)
		require.Equal(t, 10000, m.Len())
	}()
	for range 10 {
		runtime.GC()
		runtime.Gosched()
	}
}
