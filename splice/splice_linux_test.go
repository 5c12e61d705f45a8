//go:build linux && !purego

package splice_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/splice"
)

// source makes a reader holding data. rest returns what is still unread in
// it after the transfer (the bytes Splice must not have consumed).
type source struct {
	name string
	make func(t *testing.T, data []byte) (r io.Reader, rest func() []byte)
}

type dest struct {
	name string
	// arrived returns the bytes that reached the destination (nil: not
	// observable, only the count is checked).
	make func(t *testing.T) (w io.Writer, arrived func() []byte)
}

func streamSrc(pair func(t *testing.T) (io.Writer, io.Reader)) func(*testing.T, []byte) (io.Reader, func() []byte) {
	return func(t *testing.T, data []byte) (io.Reader, func() []byte) {
		w, r := pair(t)
		wait := testutil.Feed(w, data)
		return r, func() []byte {
			require.NoError(t, wait())
			b, err := io.ReadAll(r)
			require.NoError(t, err)
			return b
		}
	}
}

var sources = []source{
	{"tcp", streamSrc(func(t *testing.T) (io.Writer, io.Reader) { c, s := testutil.TCPPair(t); return c, s })},
	{"unix", streamSrc(func(t *testing.T) (io.Writer, io.Reader) { a, b := testutil.UnixPair(t, "unix"); return a, b })},
	{"os.Pipe", streamSrc(func(t *testing.T) (io.Writer, io.Reader) { r, w := testutil.Pipe(t); return w, r })},
	{"Pipe", streamSrc(func(t *testing.T) (io.Writer, io.Reader) {
		p, err := splice.NewPipe()
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Close() })
		return pipeWriter{p}, p
	})},
	{"wrapper", streamSrc(func(t *testing.T) (io.Writer, io.Reader) {
		c, s := testutil.TCPPair(t)
		return c, testutil.Reader{C: s}
	})},
	{"file", func(t *testing.T, data []byte) (io.Reader, func() []byte) {
		f := testutil.File(t, t.TempDir(), "src", append([]byte("xy"), data...))
		_, err := f.Seek(2, io.SeekStart)
		require.NoError(t, err)
		return f, func() []byte {
			b, err := io.ReadAll(f) // from the offset Splice left
			require.NoError(t, err)
			return b
		}
	}},
}

// pipeWriter lets Feed close only the write end of a *Pipe.
type pipeWriter struct{ p *splice.Pipe }

func (w pipeWriter) Write(b []byte) (int, error) { return w.p.Write(b) }
func (w pipeWriter) CloseWrite() error           { return w.p.CloseWrite() }

func streamDst(pair func(t *testing.T) (io.Writer, io.Reader)) func(*testing.T) (io.Writer, func() []byte) {
	return func(t *testing.T) (io.Writer, func() []byte) {
		w, r := pair(t)
		got := testutil.Collect(t, r)
		return w, func() []byte { testutil.CloseWrite(t, w); return got() }
	}
}

var dests = []dest{
	{"tcp", streamDst(func(t *testing.T) (io.Writer, io.Reader) { c, s := testutil.TCPPair(t); return c, s })},
	{"unix", streamDst(func(t *testing.T) (io.Writer, io.Reader) { a, b := testutil.UnixPair(t, "unix"); return a, b })},
	{"os.Pipe", streamDst(func(t *testing.T) (io.Writer, io.Reader) { r, w := testutil.Pipe(t); return w, r })},
	{"Pipe", streamDst(func(t *testing.T) (io.Writer, io.Reader) {
		p, err := splice.NewPipe()
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Close() })
		return p, p
	})},
	{"wrapper", streamDst(func(t *testing.T) (io.Writer, io.Reader) {
		c, s := testutil.TCPPair(t)
		return testutil.Writer{C: c}, s
	})},
	{"file", func(t *testing.T) (io.Writer, func() []byte) {
		f := testutil.File(t, t.TempDir(), "dst", []byte("abc"))
		_, err := f.Seek(3, io.SeekStart)
		require.NoError(t, err)
		return f, func() []byte {
			b := testutil.ReadFile(t, f.Name())
			require.Equal(t, int64(len(b)), testutil.Offset(t, f), "offset after the bytes")
			return b[3:]
		}
	}},
	{"devnull", func(t *testing.T) (io.Writer, func() []byte) {
		f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		require.NoError(t, err)
		t.Cleanup(func() { _ = f.Close() })
		return f, nil
	}},
}

func TestSpliceMatrix(t *testing.T) {
	testutil.NoLeaks(t)
	t.Cleanup(splicer.Drop)
	sizes := []int{0, 1, 4095, 65535, 65537, 1<<20 + 7}
	for _, size := range sizes {
		data := testutil.Data(uint64(size), size)
		for _, s := range sources {
			for _, d := range dests {
				for _, lim := range limits(size) {
					t.Run(fmt.Sprintf("%s-to-%s/%d/n=%d", s.name, d.name, size, lim), func(t *testing.T) {
						checkSplice(t, s, d, data, lim)
					})
				}
			}
		}
	}
}

// TestSpliceLarge moves 8 MiB+3 through the main pairs: eight 1 MiB pipe
// fills and more (64 MiB+3 with ZEROCOPY_LONG=1).
func TestSpliceLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("8 MiB per pair")
	}
	testutil.NoLeaks(t)
	t.Cleanup(splicer.Drop)
	size := 8<<20 + 3
	if testutil.Long() {
		size = 64<<20 + 3
	}
	data := testutil.Data(64, size)
	for _, s := range sources {
		for _, d := range dests {
			if s.name == "wrapper" || d.name == "wrapper" || d.name == "Pipe" && s.name == "Pipe" {
				continue
			}
			t.Run(s.name+"-to-"+d.name, func(t *testing.T) { checkSplice(t, s, d, data, -1) })
		}
	}
}

func limits(size int) []int64 {
	l := []int64{-1, int64(size), int64(size) + 10}
	if size > 0 {
		l = append(l, int64(size)-1)
	}
	return l
}

func checkSplice(t *testing.T, s source, d dest, data []byte, lim int64) {
	src, rest := s.make(t, data)
	dst, arrived := d.make(t)
	n, err := splice.Splice(dst, src, lim)
	want := int64(len(data))
	if lim >= 0 && lim < want {
		want = lim
	}
	require.Equal(t, want, n, "count (err %v)", err)
	if lim > int64(len(data)) {
		require.ErrorIs(t, err, io.EOF, "a source ending before n")
	} else {
		require.NoError(t, err)
	}
	if arrived != nil {
		testutil.RequireBytes(t, data[:n], arrived())
	}
	testutil.RequireBytes(t, data[n:], rest(), "the bytes not asked for are still in the source")
}

func TestUnsupported(t *testing.T) {
	testutil.NoLeaks(t)
	data := testutil.Data(5, 1000)
	a, b := testutil.UnixPair(t, "unixgram")
	c, s := testutil.TCPPair(t)
	f := testutil.File(t, t.TempDir(), "f", data)
	app, err := os.OpenFile(f.Name(), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = app.Close() })
	for _, tc := range []struct {
		name string
		dst  io.Writer
		src  io.Reader
	}{
		{"dgram source", c, b},
		{"dgram destination", a, f},
		{"no descriptor (source)", c, bytes.NewReader(data)},
		{"no descriptor (destination)", &bytes.Buffer{}, f},
		{"O_APPEND destination", app, s},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := splice.Splice(tc.dst, tc.src, -1)
			require.Zero(t, n)
			require.ErrorIs(t, err, errors.ErrUnsupported)
			require.ErrorIs(t, err, errors.ErrUnsupported)
		})
	}
	require.Zero(t, testutil.Offset(t, f), "nothing consumed")
}

// TestConcurrentProxies runs 64 bidirectional-style streams at once, each
// its own Splice, and checks every byte (run it with -race).
func TestConcurrentProxies(t *testing.T) {
	testutil.NoLeaks(t)
	const streams = 64
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for i := range streams {
		c, s := testutil.TCPPair(t)
		d1, d2 := testutil.TCPPair(t)
		data := testutil.Data(uint64(1000+i), 256<<10+i)
		feed := testutil.Feed(c, data)
		got := testutil.Collect(t, d2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := splice.Splice(d1, s, -1)
			_ = d1.CloseWrite()
			if err != nil || n != int64(len(data)) {
				errs <- fmt.Errorf("stream %d: %d, %v", i, n, err)
				return
			}
			if err := feed(); err != nil {
				errs <- err
			}
			arrived := got()
			if !bytes.Equal(arrived, data) {
				errs <- fmt.Errorf("stream %d: bytes differ", i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
