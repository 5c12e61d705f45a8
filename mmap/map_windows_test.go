//go:build windows && !purego

package mmap_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/sys"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/mmap"
)

// TestMapCopiesNothing maps a 256 MiB file, reads every page of it, and
// checks that nothing was copied into the process: the bytes are a view
// of the file (VirtualQuery: MEM_MAPPED, not the Go heap's MEM_PRIVATE),
// the commit charge (private memory) and the Go runtime's memory grew by
// far less than the file, while the working set grew by the pages read.
// The in-memory copy this replaced grew both by the whole range (256 MiB:
// see the figures in the windows note).
func TestMapCopiesNothing(t *testing.T) {
	const size = 256 << 20
	f := testutil.File(t, t.TempDir(), "big", nil)
	require.NoError(t, f.Truncate(size)) // zeros, with marks to read back
	marks := map[int64]byte{0: 1, 65535: 2, 65536: 3, size / 2: 4, size - 1: 5}
	for off, b := range marks {
		_, err := f.WriteAt([]byte{b}, off)
		require.NoError(t, err)
	}
	for _, mode := range []mmap.Mode{mmap.ReadOnly, mmap.CopyOnWrite, mmap.ReadWrite} {
		t.Run(mode.String(), func(t *testing.T) {
			runtime.GC()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			m0 := testutil.ProcessMemory(t)

			m, err := mmap.Map(f, 0, 0, mode)
			require.NoError(t, err)
			defer func() { require.NoError(t, m.Close()) }()
			b := m.Bytes()
			require.Len(t, b, size)
			require.EqualValues(t, testutil.MEM_MAPPED, testutil.MemoryType(t, b), "the bytes are a view of the file")
			sum := 0
			for i := 0; i < size; i += page { // touch every page
				sum += int(b[i])
			}
			for off, want := range marks {
				require.Equal(t, want, b[off], "byte %d", off)
			}

			m1 := testutil.ProcessMemory(t)
			runtime.ReadMemStats(&ms1)
			t.Logf("%v: %d MiB mapped and read: working set %+d MiB, commit charge %+d MiB, Go runtime memory %+d MiB (sum %d)",
				mode, size>>20, (m1.WorkingSet-m0.WorkingSet)>>20, (m1.Commit-m0.Commit)>>20, (int64(ms1.Sys)-int64(ms0.Sys))>>20, sum)
			require.Less(t, m1.Commit-m0.Commit, int64(size/8), "the commit charge grew as if the file was copied")
			require.Less(t, int64(ms1.Sys)-int64(ms0.Sys), int64(size/8), "the Go runtime's memory grew as if the file was copied")
			require.Greater(t, m1.WorkingSet-m0.WorkingSet, int64(size/4), "the pages read are in the working set")
		})
	}
}

// TestMapSharesPages: a view shows the file as it is now, both ways, with
// no Sync: a write to the file after Map shows in every mode's view (a
// CopyOnWrite page until this process writes it), and a ReadWrite view's
// write shows in a read of the file through another handle.
func TestMapSharesPages(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(50, 5*65536+77)
	f := testutil.File(t, t.TempDir(), "f", data)
	for _, mode := range modes() {
		t.Run(mode.String(), func(t *testing.T) {
			m, err := mmap.Map(f, 65536+5, 0, mode)
			require.NoError(t, err)
			defer func() { require.NoError(t, m.Close()) }()
			_, err = f.WriteAt([]byte("later"), 2*65536)
			require.NoError(t, err)
			require.Equal(t, "later", string(m.Bytes()[65536-5:65536]), "the view shows the file's later write")
			if mode != mmap.ReadWrite {
				return
			}
			_, err = m.WriteAt([]byte("through the view"), 100)
			require.NoError(t, err)
			g, err := os.Open(f.Name())
			require.NoError(t, err)
			defer g.Close()
			got := make([]byte, 16)
			_, err = g.ReadAt(got, 65536+5+100)
			require.NoError(t, err)
			require.Equal(t, "through the view", string(got))
		})
	}
}

// TestMapGranularity maps at offsets around the 64 KiB allocation
// granularity, which is the view's alignment on Windows, not the page.
func TestMapGranularity(t *testing.T) {
	testutil.NoLeaks(t)
	g := 65536
	data := testutil.Data(51, 4*g+13)
	for _, mode := range modes() {
		for _, off := range []int64{int64(page), int64(g - 1), int64(g), int64(g + 1), int64(3*g + page + 7), int64(len(data) - 1)} {
			for _, length := range []int{0, 1, g} {
				if int64(length) > int64(len(data))-off {
					continue
				}
				t.Run(fmt.Sprintf("%v/off=%d/len=%d", mode, off, length), func(t *testing.T) {
					checkMapping(t, data, 0, off, length, mode)
				})
			}
		}
	}
}

// TestTruncateRefused: Windows refuses to shrink a file under a view
// (SetEndOfFile: ERROR_USER_MAPPED_FILE), so the bytes of a mapping stay
// the file's; ErrTruncated cannot arise from a truncation here. Once the
// mapping is closed the file can shrink.
func TestTruncateRefused(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(52, 4*page)
	for _, mode := range modes() {
		t.Run(mode.String(), func(t *testing.T) {
			f := testutil.File(t, t.TempDir(), "f", data)
			m, err := mmap.Map(f, 0, 0, mode)
			require.NoError(t, err)
			err = f.Truncate(int64(page))
			require.ErrorIs(t, err, sys.ERROR_USER_MAPPED_FILE)
			require.ErrorIs(t, os.Truncate(f.Name(), 0), sys.ERROR_USER_MAPPED_FILE, "through another handle too")
			fi, err := f.Stat()
			require.NoError(t, err)
			require.EqualValues(t, len(data), fi.Size())
			got := make([]byte, len(data))
			n, err := m.ReadAt(got, 0)
			require.NoError(t, err)
			testutil.RequireBytes(t, data, got[:n])
			require.NoError(t, m.Close())
			require.NoError(t, f.Truncate(int64(page)), "the file shrinks once unmapped")
		})
	}
}

// TestAdviseLockWindows: what each Advice and Lock are on Windows.
func TestAdviseLockWindows(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(53, 1<<20)
	f := testutil.File(t, t.TempDir(), "f", data)
	m, err := mmap.Map(f, 0, 0, mmap.ReadOnly)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	for _, a := range []mmap.Advice{mmap.Normal, mmap.WillNeed, mmap.DontNeed} {
		require.NoError(t, m.Advise(a), "%v", a)
	}
	for _, a := range []mmap.Advice{mmap.Sequential, mmap.Random} {
		err := m.Advise(a)
		require.ErrorIs(t, err, errors.ErrUnsupported, "Windows has no such hint for a view")
		require.ErrorContains(t, err, "access-pattern hint")
	}
	testutil.RequireBytes(t, data, m.Bytes(), "DontNeed only trims the working set")
	require.NoError(t, m.Lock())
	require.NoError(t, m.Unlock())
	require.NoError(t, m.Unlock(), "Unlock without Lock (ERROR_NOT_LOCKED) is not an error")

	// The quota error names the limit; the call that failed is named.
	orig := sys.VirtualLock
	t.Cleanup(func() { sys.VirtualLock = orig })
	sys.VirtualLock = func([]byte) error { return sys.ERROR_WORKING_SET_QUOTA }
	err = m.Lock()
	require.ErrorIs(t, err, sys.ERROR_WORKING_SET_QUOTA)
	require.ErrorContains(t, err, "minimum working set")
	require.ErrorContains(t, err, "VirtualLock")
	sys.VirtualLock = func([]byte) error { return syscall.Errno(sys.ERROR_INVALID_PARAMETER) }
	require.ErrorIs(t, m.Lock(), sys.ERROR_INVALID_PARAMETER)
}

// TestSyncFlushesFile: Sync is FlushViewOfFile then FlushFileBuffers, in
// that order, and each failure is named.
func TestSyncFlushesFile(t *testing.T) {
	testutil.NoLeaks(t)
	f := testutil.File(t, t.TempDir(), "f", testutil.Data(54, 3*65536))
	m, err := mmap.Map(f, 100, 0, mmap.ReadWrite)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	_, err = m.WriteAt([]byte("synced"), 0)
	require.NoError(t, err)

	var calls []string
	view, flush := sys.FlushViewOfFile, sys.FlushFileBuffers
	t.Cleanup(func() { sys.FlushViewOfFile, sys.FlushFileBuffers = view, flush })
	sys.FlushViewOfFile = func(b []byte) error {
		calls = append(calls, fmt.Sprintf("view %d", len(b)))
		return view(b)
	}
	sys.FlushFileBuffers = func(h syscall.Handle) error {
		calls = append(calls, "file")
		return flush(h)
	}
	require.NoError(t, m.Sync())
	require.Equal(t, []string{fmt.Sprintf("view %d", 3*65536), "file"}, calls, "the whole view, then the file")
	require.Equal(t, "synced", string(testutil.ReadFile(t, f.Name())[100:106]))

	sys.FlushFileBuffers = func(syscall.Handle) error { return syscall.Errno(sys.ERROR_ACCESS_DENIED) }
	err = m.Sync()
	require.ErrorIs(t, err, sys.ERROR_ACCESS_DENIED)
	require.ErrorContains(t, err, "FlushFileBuffers")
	sys.FlushViewOfFile = func([]byte) error { return syscall.Errno(sys.ERROR_NOT_SUPPORTED) }
	require.ErrorContains(t, m.Sync(), "FlushViewOfFile")
}

// TestResizeKeepsCopyOnWrite: Resize maps the new view before it drops
// the old one, so a CopyOnWrite mapping keeps this process's changes in
// the part that stays; the file never sees them.
func TestResizeKeepsCopyOnWrite(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(55, 3*65536)
	f := testutil.File(t, t.TempDir(), "f", data)
	m, err := mmap.Map(f, 7, 1000, mmap.CopyOnWrite)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	_, err = m.WriteAt([]byte("private"), 10)
	require.NoError(t, err)
	require.NoError(t, m.Resize(2*65536))
	require.Equal(t, "private", string(m.Bytes()[10:17]))
	testutil.RequireBytes(t, data[7+17:7+2*65536], m.Bytes()[17:])
	require.NoError(t, m.Resize(5))
	testutil.RequireBytes(t, data[7:12], m.Bytes())
	testutil.RequireBytes(t, data, testutil.ReadFile(t, f.Name()), "the file never sees a CopyOnWrite change")
}

// TestMapFaultsNamed: a failing CreateFileMapping or MapViewOfFile is
// named in Map's error, and nothing leaks: the duplicated file handle and
// the section are closed.
func TestMapFaultsNamed(t *testing.T) {
	testutil.NoLeaks(t)
	f := testutil.File(t, t.TempDir(), "f", testutil.Data(56, 1000))
	cfm, mvf := sys.CreateFileMapping, sys.MapViewOfFile
	t.Cleanup(func() { sys.CreateFileMapping, sys.MapViewOfFile = cfm, mvf })
	var file, section syscall.Handle
	sys.CreateFileMapping = func(h syscall.Handle, prot uint32) (syscall.Handle, error) {
		file = h
		return syscall.InvalidHandle, syscall.Errno(sys.ERROR_ACCESS_DENIED)
	}
	_, err := mmap.Map(f, 0, 0, mmap.ReadWrite)
	require.ErrorIs(t, err, sys.ERROR_ACCESS_DENIED)
	require.ErrorContains(t, err, "CreateFileMapping")
	require.ErrorContains(t, err, "ReadWrite needs", "access denied for ReadWrite says what is needed")
	require.NotZero(t, file)
	require.False(t, testutil.HandleOpen(file), "the duplicated handle is closed")

	sys.CreateFileMapping = func(h syscall.Handle, prot uint32) (syscall.Handle, error) {
		file = h
		section, err = cfm(h, prot)
		return section, err
	}
	sys.MapViewOfFile = func(syscall.Handle, uint32, int64, int) ([]byte, error) {
		require.True(t, testutil.HandleOpen(section))
		return nil, syscall.Errno(sys.ERROR_MAPPED_ALIGNMENT)
	}
	_, err = mmap.Map(f, 0, 0, mmap.ReadOnly)
	require.ErrorIs(t, err, sys.ERROR_MAPPED_ALIGNMENT)
	require.ErrorContains(t, err, "MapViewOfFile")
	require.False(t, testutil.HandleOpen(section), "the section is closed")
	require.False(t, testutil.HandleOpen(file), "the duplicated handle is closed")
}
