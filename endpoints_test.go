package zerocopy_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

var matrixSizes = []int{0, 1, 4095, 4096, 4097, 64<<10 - 1, 64<<10 + 1, 1<<20 + 7, 16<<20 + 3}

// matrixLong is where the sizes of matrixSizes need ZEROCOPY_LONG=1.
const matrixLong = 2 << 20

// srcKind makes a source holding data and checks its state afterwards.
type srcKind struct {
	name  string
	file  bool // a regular file: eligible for a fast path
	tmpfs bool // on tmpfs, so copy_file_range to the ext4 destination is EXDEV
	make  func(t *testing.T, data []byte) (io.Reader, func(t *testing.T, n int64))
}

// dstKind makes a destination and reports what arrived at it.
type dstKind struct {
	name string
	// kind: "file" (copy_file_range), "append" (buffered), "stream"
	// (sendfile), "plain" (no descriptor: buffered)
	kind string
	make func(t *testing.T) (io.Writer, func(t *testing.T, n int64) []byte)
}

const (
	srcPrefix = "pre"   // bytes before the data in file sources
	dstPrefix = "hello" // bytes already in file destinations
)

func fileSource(dir func(t *testing.T) string) func(t *testing.T, data []byte) (io.Reader, func(*testing.T, int64)) {
	return func(t *testing.T, data []byte) (io.Reader, func(*testing.T, int64)) {
		f := testutil.File(t, dir(t), "src", append([]byte(srcPrefix), data...))
		_, err := f.Seek(int64(len(srcPrefix)), io.SeekStart)
		require.NoError(t, err)
		return f, func(t *testing.T, n int64) {
			require.Equal(t, int64(len(srcPrefix))+n, testutil.Offset(t, f), "source offset after copy")
		}
	}
}

func tmpDir(t *testing.T) string { return t.TempDir() }

func streamSource(pair func(t *testing.T) (w io.Writer, r io.Reader)) func(t *testing.T, data []byte) (io.Reader, func(*testing.T, int64)) {
	return func(t *testing.T, data []byte) (io.Reader, func(*testing.T, int64)) {
		w, r := pair(t)
		wait := testutil.Feed(w, data)
		return r, func(t *testing.T, n int64) { require.NoError(t, wait()) }
	}
}

var srcKinds = []srcKind{
	{name: "ext4", file: true, make: fileSource(tmpDir)},
	{name: "tmpfs", file: true, tmpfs: true, make: fileSource(func(t *testing.T) string { return testutil.TmpfsDir(t) })},
	{name: "limited", file: true, make: func(t *testing.T, data []byte) (io.Reader, func(*testing.T, int64)) {
		f, check := fileSource(tmpDir)(t, data)
		lr := &io.LimitedReader{R: f, N: int64(len(data)) + 5}
		return lr, func(t *testing.T, n int64) {
			check(t, n)
			require.Equal(t, int64(5), lr.N, "LimitedReader.N after copy")
		}
	}},
	{name: "section", file: true, make: func(t *testing.T, data []byte) (io.Reader, func(*testing.T, int64)) {
		content := append(append([]byte("1234567"), data...), "suffix123"...)
		f := testutil.File(t, t.TempDir(), "src", content)
		sr := io.NewSectionReader(f, 7, int64(len(data)))
		return sr, func(t *testing.T, n int64) {
			pos, _ := sr.Seek(0, io.SeekCurrent)
			require.Equal(t, n, pos, "SectionReader position after copy")
			require.Equal(t, int64(0), testutil.Offset(t, f), "the file's own offset must not move")
		}
	}},
	{name: "tcp", make: streamSource(func(t *testing.T) (io.Writer, io.Reader) {
		c, s := testutil.TCPPair(t)
		return c, s
	})},
	{name: "unix", make: streamSource(func(t *testing.T) (io.Writer, io.Reader) {
		a, b := testutil.UnixPair(t, "unix")
		return a, b
	})},
	{name: "pipe", make: streamSource(func(t *testing.T) (io.Writer, io.Reader) {
		r, w := testutil.Pipe(t)
		return w, r
	})},
	{name: "bytes", make: func(t *testing.T, data []byte) (io.Reader, func(*testing.T, int64)) {
		r := bytes.NewReader(data) // has WriteTo: Copy must not call it
		return r, func(t *testing.T, n int64) { require.Zero(t, r.Len()) }
	}},
	{name: "wrapper", make: streamSource(func(t *testing.T) (io.Writer, io.Reader) {
		c, s := testutil.TCPPair(t)
		return c, testutil.Reader{C: s}
	})},
}

func fileDest(flag int, fcntlAppend bool) func(t *testing.T) (io.Writer, func(*testing.T, int64) []byte) {
	return func(t *testing.T) (io.Writer, func(*testing.T, int64) []byte) {
		path := filepath.Join(t.TempDir(), "dst")
		require.NoError(t, os.WriteFile(path, []byte(dstPrefix), 0o644))
		f, err := os.OpenFile(path, flag, 0)
		require.NoError(t, err)
		t.Cleanup(func() { _ = f.Close() })
		if flag&os.O_APPEND == 0 && !fcntlAppend {
			_, err = f.Seek(int64(len(dstPrefix)), io.SeekStart)
			require.NoError(t, err)
		}
		if fcntlAppend {
			setAppend(t, f) // offset stays 0: the bytes must still go to the end
		}
		return f, func(t *testing.T, n int64) []byte {
			if flag&os.O_APPEND == 0 && !fcntlAppend {
				require.Equal(t, int64(len(dstPrefix))+n, testutil.Offset(t, f), "destination offset after copy")
			}
			b := testutil.ReadFile(t, path)
			require.Equal(t, dstPrefix, string(b[:len(dstPrefix)]), "destination prefix kept")
			return b[len(dstPrefix):]
		}
	}
}

func streamDest(pair func(t *testing.T) (w io.Writer, r io.Reader)) func(t *testing.T) (io.Writer, func(*testing.T, int64) []byte) {
	return func(t *testing.T) (io.Writer, func(*testing.T, int64) []byte) {
		w, r := pair(t)
		wait := testutil.Collect(t, r)
		return w, func(t *testing.T, n int64) []byte {
			testutil.CloseWrite(t, w)
			return wait()
		}
	}
}

var dstKinds = []dstKind{
	{name: "file", kind: "file", make: fileDest(os.O_RDWR, false)},
	{name: "append-open", kind: "append", make: fileDest(os.O_WRONLY|os.O_APPEND, false)},
	{name: "append-fcntl", kind: "append", make: fileDest(os.O_RDWR, true)},
	{name: "tcp", kind: "stream", make: streamDest(func(t *testing.T) (io.Writer, io.Reader) {
		c, s := testutil.TCPPair(t)
		return c, s
	})},
	{name: "unix", kind: "stream", make: streamDest(func(t *testing.T) (io.Writer, io.Reader) {
		a, b := testutil.UnixPair(t, "unix")
		return a, b
	})},
	{name: "pipe", kind: "stream", make: streamDest(func(t *testing.T) (io.Writer, io.Reader) {
		r, w := testutil.Pipe(t)
		return w, r
	})},
	{name: "devnull", kind: "stream", make: func(t *testing.T) (io.Writer, func(*testing.T, int64) []byte) {
		f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		require.NoError(t, err)
		t.Cleanup(func() { _ = f.Close() })
		return f, nil // nothing to read back: only the count is checked
	}},
	{name: "buffer", kind: "plain", make: func(t *testing.T) (io.Writer, func(*testing.T, int64) []byte) {
		var b bytes.Buffer // has ReadFrom: Copy must not call it
		return &b, func(*testing.T, int64) []byte { return b.Bytes() }
	}},
	{name: "wrapper", kind: "stream", make: streamDest(func(t *testing.T) (io.Writer, io.Reader) {
		c, s := testutil.TCPPair(t)
		return testutil.Writer{C: c}, s
	})},
}

// expectMethod is the path Copy must report on this build.
func expectMethod(s srcKind, d dstKind, size int) zerocopy.Method {
	if !zerocopy.FastPaths {
		return zerocopy.MethodBuffered
	}
	if !s.file {
		// Stream sockets and pipes splice into anything with a spliceable
		// descriptor; bytes.Reader has none.
		if s.name != "bytes" && (d.kind == "file" || d.kind == "stream") {
			return zerocopy.MethodSplice
		}
		return zerocopy.MethodBuffered
	}
	if size == 0 && s.name == "section" {
		// An exhausted section returns before any path runs. The other file
		// sources hold a prefix, so the fast path runs and meets EOF: with
		// no byte moved, Report names the path that reached the end.
		return zerocopy.MethodBuffered
	}
	switch d.kind {
	case "file":
		if s.tmpfs {
			return zerocopy.MethodSendfile // EXDEV ext4 <- tmpfs, then sendfile
		}
		return zerocopy.MethodCopyFileRange
	case "stream":
		return zerocopy.MethodSendfile
	}
	return zerocopy.MethodBuffered
}

func TestCopyMatrix(t *testing.T) {
	testutil.NoLeaks(t)
	for _, size := range matrixSizes {
		if size > matrixLong && !testutil.Long() {
			continue
		}
		data := testutil.Data(uint64(size), size)
		for _, s := range srcKinds {
			for _, d := range dstKinds {
				t.Run(fmt.Sprintf("%s-to-%s/%d", s.name, d.name, size), func(t *testing.T) {
					src, checkSrc := s.make(t, data)
					dst, arrived := d.make(t)
					var rep zerocopy.Report
					c := zerocopy.Copier{Observe: func(r zerocopy.Report) { rep = r }}
					n, err := c.Copy(bg, dst, src)
					require.NoError(t, err)
					require.Equal(t, int64(size), n, "count")
					checkSrc(t, n)
					if arrived != nil {
						testutil.RequireBytes(t, data, arrived(t, n))
					}
					require.Equal(t, n, rep.Bytes, "Report.Bytes")
					want := expectMethod(s, d, size)
					if !zerocopy.FastPaths && zerocopy.MethodStdlib.Available() && zerocopy.StdlibPair(runtime.GOOS, dst, src) {
						want = zerocopy.MethodStdlib // this platform's stdlib has a path for the pair
					}
					require.Equal(t, want.String(), rep.Method.String(), "Report.Method (fallback: %v)", rep.Fallback)
					if d.kind == "append" && zerocopy.FastPaths && s.name != "bytes" && size > 0 {
						require.ErrorIs(t, rep.Fallback, zerocopy.ErrUnsupported, "an O_APPEND destination is reported")
					}
				})
			}
		}
	}
}

// setAppend adds O_APPEND to an open file with fcntl, reaching the
// descriptor through SyscallConn (never Fd).
func setAppend(t *testing.T, f *os.File) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no fcntl on windows")
	}
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	var ferr error
	require.NoError(t, rc.Control(func(fd uintptr) { ferr = fcntlAppend(int(fd)) }))
	require.NoError(t, ferr)
}
