//go:build windows && !purego

package directio_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/sys"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

// Wine accepts FILE_FLAG_NO_BUFFERING and reports it back
// (FileModeInformation), but does not enforce the alignment Windows
// demands: an unaligned read of an unbuffered handle succeeds there. So
// these tests put Windows's rule back at the seam: every ReadFile and
// WriteFile on an unbuffered handle must have an offset, a length and a
// buffer address that are multiples of the sector, or it fails with
// ERROR_INVALID_PARAMETER as on Windows; and the sector can be made 4096
// (a 4Kn disk) while Wine's volume says 512.
func enforceAlignment(t *testing.T, sector int) (calls *int) {
	t.Helper()
	readAt, writeAt, storage := sys.ReadAt, sys.WriteAt, sys.StorageInfo
	t.Cleanup(func() { sys.ReadAt, sys.WriteAt, sys.StorageInfo = readAt, writeAt, storage })
	var n int
	check := func(h syscall.Handle, b []byte, off int64) error {
		mode, err := sys.FileMode(h)
		require.NoError(t, err)
		if mode&sys.FILE_NO_INTERMEDIATE_BUFFERING == 0 {
			return nil
		}
		n++
		addr := uintptr(0)
		if len(b) > 0 {
			addr = uintptr(unsafe.Pointer(&b[0]))
		}
		if (off >= 0 && off%int64(sector) != 0) || len(b)%sector != 0 || addr%uintptr(sector) != 0 {
			return syscall.Errno(sys.ERROR_INVALID_PARAMETER)
		}
		return nil
	}
	sys.ReadAt = func(h syscall.Handle, b []byte, off int64) (int, error) {
		if err := check(h, b, off); err != nil {
			return 0, err
		}
		return readAt(h, b, off)
	}
	sys.WriteAt = func(h syscall.Handle, b []byte, off int64) (int, error) {
		if err := check(h, b, off); err != nil {
			return 0, err
		}
		return writeAt(h, b, off)
	}
	sys.StorageInfo = func(syscall.Handle) (uint32, uint32, error) { return 512, uint32(sector), nil }
	return &n
}

// TestUnbufferedContract runs the Reader and the Writer over unbuffered
// handles with Windows's alignment enforced (512- and 4096-byte sectors):
// every byte arrives, the file ends exactly at the bytes written, f's
// offset is where the contract says, and the aligned calls really ran.
func TestUnbufferedContract(t *testing.T) {
	testutil.NoLeaks(t)
	for _, sector := range []int{512, 4096} {
		t.Run(fmt.Sprint(sector), func(t *testing.T) {
			calls := enforceAlignment(t, sector)
			dir := t.TempDir()
			for _, size := range []int{0, 1, 511, 4095, 4096, 4097, 3*4096 + 1, 1<<20 + 7} {
				data := testutil.Data(uint64(size)+70, size)
				path := filepath.Join(dir, fmt.Sprintf("r%d", size))
				require.NoError(t, os.WriteFile(path, data, 0o644))
				for _, start := range []int64{0, 1, 512, 4097} {
					f, err := directio.OpenFile(path, os.O_RDONLY, 0)
					require.NoError(t, err)
					a, err := directio.AlignmentOf(f)
					require.NoError(t, err)
					require.Equal(t, directio.Alignment{Memory: sector, Offset: sector}, a)
					_, err = f.Seek(start, io.SeekStart)
					require.NoError(t, err)
					r, err := directio.NewReader(f, &directio.ReaderOptions{BlockSize: 3 * 4096, Depth: 3})
					require.NoError(t, err)
					require.True(t, r.Direct())
					var b bytes.Buffer
					_, err = r.WriteTo(testutil.OnlyWriter{W: &b})
					require.NoError(t, err, "size %d start %d", size, start)
					testutil.RequireBytes(t, data[min(start, int64(size)):], b.Bytes())
					require.NoError(t, r.Close())
					require.Equal(t, max(start, int64(size)), testutil.Offset(t, f))
					require.NoError(t, f.Close())
				}
			}
			for _, size := range []int{0, 1, 4095, 4097, 1<<20 + 5, 3<<20 + 11} {
				for _, chunk := range []int{7, 4097, 1 << 20} {
					data := testutil.Data(uint64(size)+71, size)
					path := filepath.Join(dir, fmt.Sprintf("w%d-%d", size, chunk))
					f, err := directio.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
					require.NoError(t, err)
					w, err := directio.NewWriter(f)
					require.NoError(t, err)
					require.True(t, w.Direct())
					for i := 0; i < len(data); i += chunk {
						n, err := w.Write(data[i:min(i+chunk, len(data))])
						require.NoError(t, err)
						require.Equal(t, min(chunk, len(data)-i), n)
					}
					require.NoError(t, w.Close())
					require.Equal(t, int64(size), testutil.Offset(t, f), "f after the bytes written")
					require.NoError(t, f.Close())
					fi, err := os.Stat(path)
					require.NoError(t, err)
					require.Equal(t, int64(size), fi.Size(), "the file ends exactly at the bytes written")
					testutil.RequireBytes(t, data, testutil.ReadFile(t, path))
				}
			}
			require.Greater(t, *calls, 100, "the unbuffered calls went through the seam")
		})
	}
}

// TestUnbufferedUnalignedStart: a Writer that starts at an unaligned end
// of the file, by position and by O_APPEND, writes its head through a
// buffered handle, its blocks unbuffered and its tail buffered again.
func TestUnbufferedUnalignedStart(t *testing.T) {
	testutil.NoLeaks(t)
	enforceAlignment(t, 4096)
	head := testutil.Data(72, 1000)
	data := testutil.Data(73, 3<<20+11)
	for _, mode := range []string{"append", "seek"} {
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			require.NoError(t, os.WriteFile(path, head, 0o644))
			flag := os.O_WRONLY
			if mode == "append" {
				flag |= os.O_APPEND
			}
			f, err := directio.OpenFile(path, flag, 0)
			require.NoError(t, err)
			defer f.Close()
			if mode == "seek" {
				_, err = f.Seek(int64(len(head)), io.SeekStart)
				require.NoError(t, err)
			}
			w, err := directio.NewWriter(f)
			require.NoError(t, err)
			require.True(t, w.Direct())
			_, err = w.Write(data)
			require.NoError(t, err)
			require.NoError(t, w.Close())
			testutil.RequireBytes(t, append(append([]byte{}, head...), data...), testutil.ReadFile(t, path))
		})
	}
}

// TestOpenFileFlags: OpenFile's handle is unbuffered, and write-through
// when it writes; flag keeps its meaning (O_EXCL, O_TRUNC); ReopenDirect
// gives a read-only unbuffered handle with its own position.
func TestOpenFileFlags(t *testing.T) {
	testutil.NoLeaks(t)
	const fileWriteThrough = 0x2 // FILE_WRITE_THROUGH in FileModeInformation
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	mode := func(f *os.File) uint32 {
		var m uint32
		var err error
		require.NoError(t, sys.Handle(f, func(h syscall.Handle) { m, err = sys.FileMode(h) }))
		require.NoError(t, err)
		return m
	}
	w, err := directio.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	require.NoError(t, err)
	require.NotZero(t, mode(w)&sys.FILE_NO_INTERMEDIATE_BUFFERING)
	require.NotZero(t, mode(w)&fileWriteThrough)
	_, err = directio.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	require.ErrorIs(t, err, os.ErrExist)
	require.NoError(t, w.Close())
	require.NoError(t, os.WriteFile(path, testutil.Data(74, 10000), 0o644))

	r, err := directio.OpenFile(path, os.O_RDONLY, 0)
	require.NoError(t, err)
	require.NotZero(t, mode(r)&sys.FILE_NO_INTERMEDIATE_BUFFERING)
	require.Zero(t, mode(r)&fileWriteThrough, "a reader is not write-through")
	_, err = r.Write([]byte("x"))
	require.Error(t, err, "read-only access kept")
	_, err = r.Seek(700, io.SeekStart)
	require.NoError(t, err)
	g, err := directio.ReopenDirect(r, os.O_RDONLY)
	require.NoError(t, err)
	require.NotZero(t, mode(g)&sys.FILE_NO_INTERMEDIATE_BUFFERING)
	require.Equal(t, int64(0), testutil.Offset(t, g), "its own position")
	require.Equal(t, int64(700), testutil.Offset(t, r), "f's untouched")
	require.NoError(t, g.Close())
	require.NoError(t, r.Close())

	t2, err := directio.OpenFile(path, os.O_RDWR|os.O_TRUNC, 0)
	require.NoError(t, err)
	fi, err := t2.Stat()
	require.NoError(t, err)
	require.Zero(t, fi.Size(), "O_TRUNC applied")
	require.NoError(t, t2.Close())

	// A refused reopen is ErrUnsupported with the reason.
	orig := sys.ReOpenFile
	t.Cleanup(func() { sys.ReOpenFile = orig })
	sys.ReOpenFile = func(syscall.Handle, uint32, uint32, uint32) (syscall.Handle, error) {
		return syscall.InvalidHandle, syscall.Errno(sys.ERROR_NOT_SUPPORTED)
	}
	_, err = directio.OpenFile(path, os.O_RDONLY, 0)
	require.ErrorIs(t, err, errors.ErrUnsupported)
	require.ErrorIs(t, err, sys.ERROR_NOT_SUPPORTED)
	require.ErrorContains(t, err, "FILE_FLAG_NO_BUFFERING")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = directio.ReopenDirect(f, os.O_RDONLY)
	require.True(t, errors.Is(err, errors.ErrUnsupported) && errors.Is(err, sys.ERROR_NOT_SUPPORTED), "%v", err)
}
