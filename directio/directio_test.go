package directio_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/directio"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

var sizes = []int{0, 1, 511, 512, 513, 4095, 4096, 4097, 1<<20 + 7}

// open opens path for reading with O_DIRECT where the filesystem takes it
// (direct reports which), or plainly when plain is set.
func open(t *testing.T, path string, plain bool) (f *os.File, direct bool) {
	t.Helper()
	if !plain {
		f, err := directio.OpenFile(path, os.O_RDONLY, 0)
		if err == nil {
			t.Cleanup(func() { _ = f.Close() })
			return f, true
		}
		require.ErrorIs(t, err, errors.ErrUnsupported, "only a refusing filesystem may fail")
	}
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f, false
}

// dirs returns the test's temporary directory (ext4 on the project
// machine, NTFS or Wine's host filesystem on Windows) and, where the
// machine has one, a tmpfs directory.
func dirs(t *testing.T) map[string]string {
	d := map[string]string{"tempdir": t.TempDir()}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		d["tmpfs"] = testutil.TmpfsDir(t)
	}
	return d
}

func TestReader(t *testing.T) {
	testutil.NoLeaks(t)
	for fsys, dir := range dirs(t) {
		for _, plain := range []bool{false, true} {
			for _, size := range sizes {
				data := testutil.Data(uint64(size), size)
				path := filepath.Join(dir, fmt.Sprintf("f%d", size))
				require.NoError(t, os.WriteFile(path, data, 0o644))
				for _, start := range []int64{0, 1, 512, 4097} {
					for _, how := range []string{"Read", "WriteTo"} {
						name := fmt.Sprintf("%s/plain=%v/%d/start=%d/%s", fsys, plain, size, start, how)
						t.Run(name, func(t *testing.T) {
							f, direct := open(t, path, plain)
							_, err := f.Seek(start, io.SeekStart)
							require.NoError(t, err)
							r, err := directio.NewReader(f, &directio.ReaderOptions{BlockSize: 4096 * 3, Depth: 3})
							require.NoError(t, err)
							require.Equal(t, direct, r.Direct())
							var got []byte
							if how == "Read" {
								got, err = io.ReadAll(r) // bytes.Buffer growth gives odd Read sizes
							} else {
								var b bytes.Buffer
								_, err = r.WriteTo(testutil.OnlyWriter{W: &b})
								got = b.Bytes()
							}
							require.NoError(t, err)
							want := []byte{}
							if start < int64(size) {
								want = data[start:]
							}
							testutil.RequireBytes(t, want, got)
							require.NoError(t, r.Close())
							require.Equal(t, max(start, int64(len(data))), testutil.Offset(t, f), "f positioned after what was returned")
						})
					}
				}
			}
		}
	}
}

func TestReaderLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("20 MiB")
	}
	testutil.NoLeaks(t)
	// More than the default read-ahead (4 reads of 4 MiB) holds; 64 MiB+3
	// with ZEROCOPY_LONG=1.
	size := 20<<20 + 3
	if testutil.Long() {
		size = 64<<20 + 3
	}
	data := testutil.Data(64, size)
	path := filepath.Join(t.TempDir(), "big")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	for _, plain := range []bool{false, true} {
		f, _ := open(t, path, plain)
		r, err := directio.NewReader(f, nil)
		require.NoError(t, err)
		var b bytes.Buffer
		n, err := r.WriteTo(&b)
		require.NoError(t, err)
		require.Equal(t, int64(len(data)), n)
		testutil.RequireBytes(t, data, b.Bytes())
		require.NoError(t, r.Close())
	}
}

// TestReaderSmallFileBuffers: a file smaller than Depth x BlockSize gets
// buffers for its bytes only (the default is 16 MiB), and all its bytes.
func TestReaderSmallFileBuffers(t *testing.T) {
	testutil.NoLeaks(t)
	for fsys, dir := range dirs(t) {
		for _, tc := range []struct {
			name         string
			size         int
			start        int64
			maxAllocated uint64
		}{
			{"empty", 0, 0, 64 << 10},
			{"5000", 5000, 0, 64 << 10},
			{"5000-start-4097", 5000, 4097, 64 << 10},
			{"start-past-end", 5000, 9000, 64 << 10},
			{"3MiB", 3 << 20, 0, 4 << 20},
		} {
			t.Run(fsys+"/"+tc.name, func(t *testing.T) {
				data := testutil.Data(uint64(tc.size), tc.size)
				path := filepath.Join(dir, "small-"+tc.name)
				require.NoError(t, os.WriteFile(path, data, 0o644))
				f, _ := open(t, path, false)
				_, err := f.Seek(tc.start, io.SeekStart)
				require.NoError(t, err)
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				r, err := directio.NewReader(f, nil)
				require.NoError(t, err)
				runtime.ReadMemStats(&m1)
				require.Less(t, m1.TotalAlloc-m0.TotalAlloc, tc.maxAllocated, "bytes allocated by NewReader")
				var b bytes.Buffer
				n, err := r.WriteTo(testutil.OnlyWriter{W: &b})
				require.NoError(t, err)
				want := data[min(tc.start, int64(len(data))):]
				require.Equal(t, int64(len(want)), n)
				testutil.RequireBytes(t, want, b.Bytes())
				require.NoError(t, r.Close())
			})
		}
	}
}

// TestReaderCloseMidStream: Close with reads in flight leaks no goroutine
// or descriptor and leaves f after the bytes returned.
func TestReaderCloseMidStream(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(65, 8<<20)
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, _ := open(t, path, false)
	r, err := directio.NewReader(f, &directio.ReaderOptions{BlockSize: 1 << 20, Depth: 6})
	require.NoError(t, err)
	buf := make([]byte, 1500000)
	_, err = io.ReadFull(r, buf)
	require.NoError(t, err)
	testutil.RequireBytes(t, data[:len(buf)], buf)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close())
	require.Equal(t, int64(len(buf)), testutil.Offset(t, f))
	_, err = r.Read(buf)
	require.Error(t, err)
}

func TestWriter(t *testing.T) {
	testutil.NoLeaks(t)
	for fsys, dir := range dirs(t) {
		for _, size := range append(sizes, 3<<20+5) {
			for _, chunk := range []int{1, 7, 4095, 4097, 1 << 20} {
				if chunk == 1 && size > 5000 {
					continue // a million 1-byte writes add nothing
				}
				if chunk == 7 && size > 5000 && !testutil.Long() {
					continue // nor do 150,000 7-byte writes but time (ZEROCOPY_LONG=1 runs them)
				}
				for _, how := range []string{"Write", "ReadFrom"} {
					t.Run(fmt.Sprintf("%s/%d/chunk=%d/%s", fsys, size, chunk, how), func(t *testing.T) {
						data := testutil.Data(uint64(size)+1, size)
						path := filepath.Join(dir, fmt.Sprintf("w-%d-%d-%s", size, chunk, how))
						f, err := directio.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
						if errors.Is(err, errors.ErrUnsupported) {
							f, err = os.Create(path)
						}
						require.NoError(t, err)
						t.Cleanup(func() { _ = f.Close() })
						w, err := directio.NewWriter(f)
						require.NoError(t, err)
						if how == "Write" {
							for i := 0; i < len(data); i += chunk {
								n, err := w.Write(data[i:min(i+chunk, len(data))])
								require.NoError(t, err)
								require.Equal(t, min(chunk, len(data)-i), n)
							}
						} else {
							n, err := w.ReadFrom(testutil.OnlyReader{R: &chunked{data, chunk}})
							require.NoError(t, err)
							require.Equal(t, int64(len(data)), n)
						}
						require.NoError(t, w.Close())
						fi, err := os.Stat(path)
						require.NoError(t, err)
						require.Equal(t, int64(size), fi.Size(), "the file ends exactly at the bytes written")
						testutil.RequireBytes(t, data, testutil.ReadFile(t, path))
					})
				}
			}
		}
	}
}

type chunked struct {
	b []byte
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}

// TestWriterUnalignedStart appends to a file whose end is not aligned,
// by O_APPEND and by position: no bare EINVAL, exact contents.
func TestWriterUnalignedStart(t *testing.T) {
	testutil.NoLeaks(t)
	head := testutil.Data(66, 1000)
	data := testutil.Data(67, 3<<20+11)
	for _, mode := range []string{"append", "seek"} {
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			require.NoError(t, os.WriteFile(path, head, 0o644))
			flag := os.O_WRONLY
			if mode == "append" {
				flag |= os.O_APPEND
			}
			f, err := directio.OpenFile(path, flag, 0)
			if !directio.DirectBuild {
				require.ErrorIs(t, err, errors.ErrUnsupported)
				f, err = os.OpenFile(path, flag, 0)
			}
			require.NoError(t, err)
			t.Cleanup(func() { _ = f.Close() })
			if mode == "seek" {
				_, err = f.Seek(int64(len(head)), io.SeekStart)
				require.NoError(t, err)
			}
			w, err := directio.NewWriter(f)
			require.NoError(t, err)
			require.Equal(t, directio.DirectBuild, w.Direct())
			_, err = w.Write(data)
			require.NoError(t, err)
			require.NoError(t, w.Close())
			testutil.RequireBytes(t, append(append([]byte{}, head...), data...), testutil.ReadFile(t, path))
		})
	}
}

func TestAlignment(t *testing.T) {
	for fsys, dir := range dirs(t) {
		path := filepath.Join(dir, "a")
		require.NoError(t, os.WriteFile(path, []byte("x"), 0o644))
		f, err := os.Open(path)
		require.NoError(t, err)
		a, err := directio.AlignmentOf(f)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		t.Logf("%s: %+v", fsys, a)
		require.Greater(t, a.Memory, 0)
		require.Greater(t, a.Offset, 0)
		require.Zero(t, a.Memory&(a.Memory-1), "a power of two")
		require.Zero(t, a.Offset&(a.Offset-1), "a power of two")
	}
}

func TestAlignedBuffer(t *testing.T) {
	for _, align := range []int{512, 4096} {
		for _, size := range []int{0, 1, 5000, 1 << 20} {
			for range 20 {
				b := directio.AlignedBuffer(size, align)
				require.Len(t, b, size)
				if size > 0 {
					require.Zero(t, uintptr(unsafe.Pointer(&b[0]))%uintptr(align))
				}
			}
		}
	}
	require.Panics(t, func() { directio.AlignedBuffer(10, 3) })
}

func TestOpenFileErrors(t *testing.T) {
	_, err := directio.OpenFile(filepath.Join(t.TempDir(), "missing"), os.O_RDONLY, 0)
	if directio.DirectBuild {
		require.ErrorIs(t, err, os.ErrNotExist)
	} else {
		require.ErrorIs(t, err, errors.ErrUnsupported)
	}
	_, err = directio.NewReader(nil, nil)
	require.ErrorContains(t, err, "nil *os.File")
	_, err = directio.NewWriter(nil)
	require.ErrorContains(t, err, "nil *os.File")
}
