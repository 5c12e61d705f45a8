package zerocopy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
)

func observed(rep *zerocopy.Report) *zerocopy.Copier {
	return &zerocopy.Copier{Observe: func(r zerocopy.Report) { *rep = r }}
}

func fastOr(m zerocopy.Method) zerocopy.Method {
	if zerocopy.FastPaths {
		return m
	}
	return zerocopy.MethodBuffered
}

// copyFileToTCP is the method Copy reports for a file (or an
// io.LimitedReader over one) into a TCP connection on this build:
// sendfile on Linux, the stdlib's path where this platform's stdlib has
// one (darwin, freebsd, Windows server editions), else the buffered path.
func copyFileToTCP() zerocopy.Method {
	switch {
	case zerocopy.FastPaths:
		return zerocopy.MethodSendfile
	case zerocopy.MethodStdlib.Available() && zerocopy.StdlibPair(runtime.GOOS, &net.TCPConn{}, &os.File{}):
		return zerocopy.MethodStdlib
	}
	return zerocopy.MethodBuffered
}

// sendFileToTCP is the method SendFile reports into a TCP connection on
// this build: sendfile on Linux, TransmitFile on Windows server editions,
// else the pread path.
func sendFileToTCP() zerocopy.Method {
	switch {
	case zerocopy.FastPaths:
		return zerocopy.MethodSendfile
	case zerocopy.MethodTransmitFile.Available():
		return zerocopy.MethodTransmitFile
	}
	return zerocopy.MethodBuffered
}

func TestCopyLimitedReader(t *testing.T) {
	testutil.NoLeaks(t)
	const size = 100000
	data := testutil.Data(7, size)
	for _, tc := range []struct {
		name string
		n    int64
	}{{"zero", 0}, {"negative", -3}, {"less", 4097}, {"equal", size}, {"more", size + 1234}} {
		t.Run(tc.name, func(t *testing.T) {
			f := testutil.File(t, t.TempDir(), "src", data)
			c, s := testutil.TCPPair(t)
			got := testutil.Collect(t, s)
			lr := &io.LimitedReader{R: f, N: tc.n}
			var rep zerocopy.Report
			n, err := observed(&rep).Copy(bg, c, lr)
			require.NoError(t, err)
			want := max(min(tc.n, size), 0)
			require.Equal(t, want, n)
			require.Equal(t, tc.n-want, lr.N, "N lowered by exactly the bytes copied")
			require.Equal(t, want, testutil.Offset(t, f))
			require.NoError(t, c.CloseWrite())
			testutil.RequireBytes(t, data[:want], got())
			if want > 0 {
				require.Equal(t, copyFileToTCP(), rep.Method)
			}
		})
	}
}

func TestCopyN(t *testing.T) {
	testutil.NoLeaks(t)
	const size = 70000
	data := testutil.Data(8, size)
	for _, tc := range []struct {
		name    string
		n, want int64
		err     error
	}{
		{"less", 5000, 5000, nil},
		{"equal", size, size, nil},
		{"more", size + 1, size, io.EOF},
		{"zero", 0, 0, nil},
		{"negative", -1, 0, nil},
	} {
		for _, dstName := range []string{"file", "buffer"} {
			t.Run(tc.name+"-"+dstName, func(t *testing.T) {
				f := testutil.File(t, t.TempDir(), "src", data)
				var dst io.Writer
				var out *os.File
				var buf bytes.Buffer
				if dstName == "file" {
					out = testutil.File(t, t.TempDir(), "dst", nil)
					dst = out
				} else {
					dst = &buf
				}
				n, err := zerocopy.CopyN(dst, f, tc.n)
				require.Equal(t, tc.err, err)
				require.Equal(t, tc.want, n)
				require.Equal(t, tc.want, testutil.Offset(t, f))
				got := buf.Bytes()
				if out != nil {
					got = testutil.ReadFile(t, out.Name())
				}
				testutil.RequireBytes(t, data[:tc.want], got)
			})
		}
	}
}

func TestCopyNilArguments(t *testing.T) {
	_, err := zerocopy.Copy(nil, bytes.NewReader(nil))
	require.ErrorContains(t, err, "zerocopy: Copy: nil destination")
	_, err = zerocopy.Copy(io.Discard, nil)
	require.ErrorContains(t, err, "zerocopy: Copy: nil source")
	_, err = zerocopy.CopyN(nil, nil, 5)
	require.ErrorContains(t, err, "zerocopy: CopyN")
	_, err = zerocopy.SendFile(io.Discard, nil, 0, 1)
	require.ErrorContains(t, err, "zerocopy: SendFile: nil *os.File")
	_, err = zerocopy.SendFile(nil, os.Stdin, 0, 1)
	require.ErrorContains(t, err, "zerocopy: SendFile: nil destination")
}

func TestClosedFiles(t *testing.T) {
	testutil.NoLeaks(t)
	dir := t.TempDir()
	src := testutil.File(t, dir, "src", testutil.Data(1, 5000))
	dst := testutil.File(t, dir, "dst", nil)
	require.NoError(t, src.Close())
	n, err := zerocopy.Copy(dst, src)
	require.Zero(t, n)
	require.ErrorIs(t, err, os.ErrClosed)

	src = testutil.File(t, dir, "src2", testutil.Data(1, 5000))
	require.NoError(t, dst.Close())
	n, err = zerocopy.Copy(dst, src)
	require.Zero(t, n)
	require.ErrorIs(t, err, os.ErrClosed)

	n, err = zerocopy.SendFile(io.Discard, dst, 0, 10)
	require.Zero(t, n)
	require.ErrorIs(t, err, os.ErrClosed)

	c, s := testutil.TCPPair(t)
	require.NoError(t, c.Close())
	src = testutil.File(t, dir, "src3", testutil.Data(1, 5000))
	n, err = zerocopy.Copy(c, src)
	require.Zero(t, n)
	require.ErrorIs(t, err, net_ErrClosed)
	_ = s
}

// readFromWriter is a user type whose ReadFrom calls zerocopy.Copy on its
// own receiver: io.Copy(w, r) calls w.ReadFrom, which must not recurse.
type readFromWriter struct {
	f     *os.File
	calls int
}

func (w *readFromWriter) Write(p []byte) (int, error) { return w.f.Write(p) }
func (w *readFromWriter) SyscallConn() (syscall.RawConn, error) {
	return w.f.SyscallConn()
}
func (w *readFromWriter) ReadFrom(r io.Reader) (int64, error) {
	w.calls++
	if w.calls > 1 {
		return 0, errors.New("ReadFrom recursed")
	}
	return zerocopy.Copy(w, r)
}

// writeToReader is the mirror: its WriteTo calls zerocopy.Copy(dst, itself).
type writeToReader struct {
	r     io.Reader
	calls int
}

func (r *writeToReader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *writeToReader) WriteTo(w io.Writer) (int64, error) {
	r.calls++
	if r.calls > 1 {
		return 0, errors.New("WriteTo recursed")
	}
	return zerocopy.Copy(w, r)
}

func TestReadFromRecursion(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(3, 300000)
	dir := t.TempDir()
	src := testutil.File(t, dir, "src", data)
	out := testutil.File(t, dir, "dst", nil)
	w := &readFromWriter{f: out}
	n, err := io.Copy(w, src) // io.Copy -> w.ReadFrom -> zerocopy.Copy(w, src)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.Equal(t, 1, w.calls)
	testutil.RequireBytes(t, data, testutil.ReadFile(t, out.Name()))

	r := &writeToReader{r: bytes.NewReader(data)}
	var buf bytes.Buffer
	n, err = io.Copy(testutil.OnlyWriter{W: &buf}, r) // -> r.WriteTo -> zerocopy.Copy
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.Equal(t, 1, r.calls)
	testutil.RequireBytes(t, data, buf.Bytes())
}

func TestSendFile(t *testing.T) {
	testutil.NoLeaks(t)
	const size = 1<<20 + 7
	data := testutil.Data(11, size)
	f := testutil.File(t, t.TempDir(), "src", data)
	_, err := f.Seek(12345, io.SeekStart) // SendFile must neither use nor move it
	require.NoError(t, err)

	for _, tc := range []struct {
		name          string
		offset, count int64
		want          []byte
		unexpectedEOF bool
	}{
		{"all", 0, -1, data, false},
		{"range", 4097, 65537, data[4097 : 4097+65537], false},
		{"tail", size - 1, -1, data[size-1:], false},
		{"exact-end", 100, size - 100, data[100:], false},
		{"past-count", 100, size, data[100:], true},
		{"at-eof", size, -1, nil, false},
		{"past-eof", size + 10, -1, nil, false},
		{"past-eof-count", size + 10, 5, nil, true},
		{"zero-count", 5, 0, nil, false},
	} {
		for _, dstName := range []string{"tcp", "buffer", "file"} {
			t.Run(tc.name+"-"+dstName, func(t *testing.T) {
				var dst io.Writer
				var got func() []byte
				switch dstName {
				case "tcp":
					c, s := testutil.TCPPair(t)
					collect := testutil.Collect(t, s)
					dst, got = c, func() []byte { testutil.CloseWrite(t, c); return collect() }
				case "buffer":
					var b bytes.Buffer
					dst, got = &b, b.Bytes
				case "file":
					out := testutil.File(t, t.TempDir(), "dst", nil)
					dst, got = out, func() []byte { return testutil.ReadFile(t, out.Name()) }
				}
				n, err := zerocopy.SendFile(dst, f, tc.offset, tc.count)
				if tc.unexpectedEOF {
					require.ErrorIs(t, err, io.ErrUnexpectedEOF)
				} else {
					require.NoError(t, err)
				}
				require.Equal(t, int64(len(tc.want)), n)
				testutil.RequireBytes(t, tc.want, got())
				require.Equal(t, int64(12345), testutil.Offset(t, f), "f's offset untouched")
			})
		}
	}

	t.Run("negative-offset", func(t *testing.T) {
		n, err := zerocopy.SendFile(io.Discard, f, -1, 10)
		require.Zero(t, n)
		require.ErrorContains(t, err, "zerocopy: SendFile: negative offset -1")
	})
}

// TestSendFileConcurrent sends disjoint ranges of one *os.File from 32
// goroutines at once: SendFile never touches the shared file offset.
func TestSendFileConcurrent(t *testing.T) {
	testutil.NoLeaks(t)
	const workers, chunk = 32, 256<<10 + 3
	data := testutil.Data(12, workers*chunk)
	f := testutil.File(t, t.TempDir(), "src", data)
	type pair struct {
		w   io.Writer
		got func() []byte
		c   interface{ CloseWrite() error }
	}
	pairs := make([]pair, workers)
	for i := range pairs {
		c, s := testutil.TCPPair(t)
		pairs[i] = pair{c, testutil.Collect(t, s), c}
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	counts := make([]int64, workers)
	methods := make([]zerocopy.Method, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := zerocopy.Copier{Observe: func(r zerocopy.Report) { methods[i] = r.Method }}
			counts[i], errs[i] = c.SendFile(bg, pairs[i].w, f, int64(i*chunk), chunk)
			_ = pairs[i].c.CloseWrite()
		}()
	}
	wg.Wait()
	for i := range workers {
		require.NoError(t, errs[i])
		require.Equal(t, int64(chunk), counts[i])
		require.Equal(t, sendFileToTCP(), methods[i])
		testutil.RequireBytes(t, data[i*chunk:(i+1)*chunk], pairs[i].got(), fmt.Sprintf("worker %d", i))
	}
	require.Zero(t, testutil.Offset(t, f))
}

// TestSparseOffsets copies ranges that start past 4 GiB in a sparse file.
func TestSparseOffsets(t *testing.T) {
	testutil.NoLeaks(t)
	const off = 5<<30 + 123
	data := testutil.Data(13, 1<<20+7)
	f := testutil.SparseFile(t, t.TempDir(), "sparse", off, data)

	c, s := testutil.TCPPair(t)
	got := testutil.Collect(t, s)
	var rep zerocopy.Report
	n, err := observed(&rep).SendFile(bg, c, f, off, -1)
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.NoError(t, c.CloseWrite())
	testutil.RequireBytes(t, data, got())
	require.Equal(t, sendFileToTCP(), rep.Method)

	// SectionReader past 4 GiB into a file, and the file's own offset.
	sr := io.NewSectionReader(f, off-10, int64(len(data))+10)
	out := testutil.File(t, t.TempDir(), "out", nil)
	n, err = observed(&rep).Copy(bg, out, sr)
	require.NoError(t, err)
	require.Equal(t, int64(len(data))+10, n)
	want := append(make([]byte, 10), data...)
	testutil.RequireBytes(t, want, testutil.ReadFile(t, out.Name()))
	require.Equal(t, fastOr(zerocopy.MethodCopyFileRange), rep.Method)

	_, err = f.Seek(off+1, io.SeekStart)
	require.NoError(t, err)
	out2 := testutil.File(t, t.TempDir(), "out2", nil)
	n, err = zerocopy.Copy(out2, f)
	require.NoError(t, err)
	require.Equal(t, int64(len(data))-1, n)
	require.Equal(t, int64(off)+int64(len(data)), testutil.Offset(t, f))
	testutil.RequireBytes(t, data[1:], testutil.ReadFile(t, out2.Name()))
}

// TestPseudoFiles copies /proc and /sys files, which report size 0 or 4096
// whatever they hold.
func TestPseudoFiles(t *testing.T) {
	testutil.NoLeaks(t)
	for _, path := range []string{"/proc/self/cmdline", "/proc/version", "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/devices/system/cpu/online"} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := os.ReadFile(path)
			if err != nil {
				t.Skipf("%s: %v", path, err)
			}
			for _, dstName := range []string{"file", "tcp"} {
				f, err := os.Open(path)
				require.NoError(t, err)
				t.Cleanup(func() { _ = f.Close() })
				var dst io.Writer
				var got func() []byte
				if dstName == "file" {
					out := testutil.File(t, t.TempDir(), "out", nil)
					dst, got = out, func() []byte { return testutil.ReadFile(t, out.Name()) }
				} else {
					c, s := testutil.TCPPair(t)
					collect := testutil.Collect(t, s)
					dst, got = c, func() []byte { testutil.CloseWrite(t, c); return collect() }
				}
				var rep zerocopy.Report
				n, err := observed(&rep).Copy(bg, dst, f)
				require.NoError(t, err)
				require.Equal(t, int64(len(want)), n)
				testutil.RequireBytes(t, want, got())
				t.Logf("%s -> %s: method %v, fallback %v", path, dstName, rep.Method, rep.Fallback)
			}
		})
	}
}

func TestSameFile(t *testing.T) {
	testutil.NoLeaks(t)
	const half = 1 << 20
	data := testutil.Data(14, 2*half)
	dir := t.TempDir()

	t.Run("disjoint", func(t *testing.T) {
		f := testutil.File(t, dir, "disjoint", data)
		w, err := os.OpenFile(f.Name(), os.O_WRONLY, 0)
		require.NoError(t, err)
		t.Cleanup(func() { _ = w.Close() })
		_, err = w.Seek(2*half, io.SeekStart)
		require.NoError(t, err)
		var rep zerocopy.Report
		n, err := observed(&rep).Copy(bg, w, io.NewSectionReader(f, 0, half))
		require.NoError(t, err)
		require.Equal(t, int64(half), n)
		want := append(append([]byte{}, data...), data[:half]...)
		testutil.RequireBytes(t, want, testutil.ReadFile(t, f.Name()))
		require.Equal(t, fastOr(zerocopy.MethodCopyFileRange), rep.Method)
	})

	t.Run("overlapping", func(t *testing.T) {
		// Source [0, 2 MiB), destination from 1 MiB: copy_file_range
		// refuses overlapping ranges (EINVAL). Any path copying forward in
		// chunks of at most 1 MiB leaves the first MiB twice.
		f := testutil.File(t, dir, "overlap", data)
		w, err := os.OpenFile(f.Name(), os.O_WRONLY, 0)
		require.NoError(t, err)
		t.Cleanup(func() { _ = w.Close() })
		_, err = w.Seek(half, io.SeekStart)
		require.NoError(t, err)
		var rep zerocopy.Report
		n, err := observed(&rep).Copy(bg, w, io.NewSectionReader(f, 0, 2*half))
		require.NoError(t, err)
		require.Equal(t, int64(2*half), n)
		want := append(append(append([]byte{}, data[:half]...), data[:half]...), data[:half]...)
		testutil.RequireBytes(t, want, testutil.ReadFile(t, f.Name()))
		if zerocopy.FastPaths {
			require.ErrorIs(t, rep.Fallback, syscall.EINVAL, "copy_file_range refuses the overlap")
		}
		t.Logf("method %v, fallback %v", rep.Method, rep.Fallback)
	})
}
