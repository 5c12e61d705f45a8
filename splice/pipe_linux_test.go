//go:build linux && !purego

package splice_test

import (
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zerocopy-go/zerocopy/internal/testutil"
	"github.com/zerocopy-go/zerocopy/splice"
)

func TestVmspliceRoundTrip(t *testing.T) {
	testutil.NoLeaks(t)
	p, err := splice.NewPipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	require.Greater(t, p.Cap(), 0)
	a, b := testutil.Data(40, 5000), testutil.Data(41, 70000)
	want := append(append([]byte{}, a...), b...)

	// Into a socket by reference, with a concurrent reader making room
	// (70 KB may exceed the pipe when F_SETPIPE_SZ was refused).
	c, s := testutil.TCPPair(t)
	got := testutil.Collect(t, s)
	var wg sync.WaitGroup
	wg.Add(1)
	var moved int64
	var serr error
	go func() {
		defer wg.Done()
		moved, serr = splice.Splice(c, p, int64(len(want)))
	}()
	n, err := p.Vmsplice(a, nil, b)
	require.NoError(t, err)
	require.Equal(t, len(want), n)
	wg.Wait()
	require.NoError(t, serr)
	require.Equal(t, int64(len(want)), moved)
	require.Zero(t, p.Len())
	require.NoError(t, c.CloseWrite())
	testutil.RequireBytes(t, want, got())

	// And back out with Read.
	n, err = p.Vmsplice(a)
	require.NoError(t, err)
	require.Equal(t, len(a), n)
	require.Equal(t, len(a), p.Len())
	buf := make([]byte, len(a))
	_, err = io.ReadFull(p, buf)
	require.NoError(t, err)
	testutil.RequireBytes(t, a, buf)
}

// TestVmspliceConcurrentRead: Vmsplice and Read on one Pipe at once, with
// the GC forced and the buffers dropped by the writer as soon as Vmsplice
// returns: every byte read is the byte vmspliced (a buffer unpinned while
// still in the pipe would be reused and arrive changed). Run under -race.
func TestVmspliceConcurrentRead(t *testing.T) {
	p, err := splice.NewPipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	const rounds = 3000
	gen := func(i int) []byte {
		b := make([]byte, 1000+i%3000)
		for j := range b {
			b[j] = byte(i*31 + j)
		}
		return b
	}
	total := 0
	for i := range rounds {
		total += 1000 + i%3000
	}
	errc := make(chan error, 1)
	go func() {
		defer p.CloseWrite()
		var junk [][]byte
		for i := range rounds {
			if _, err := p.Vmsplice(gen(i)); err != nil {
				errc <- err
				return
			}
			// Churn the heap so a wrongly unpinned buffer is reused.
			junk = append(junk, make([]byte, 1000+i%3000))
			if i%50 == 0 {
				junk = nil
				runtime.GC()
			}
		}
		runtime.KeepAlive(junk)
		errc <- nil
	}()
	buf := make([]byte, 7000)
	var want []byte
	next, read := 0, 0
	for read < total {
		k, err := p.Read(buf)
		for len(want) < k {
			want = append(want, gen(next)...)
			next++
		}
		require.Equal(t, want[:k], buf[:k], "bytes %d..%d", read, read+k)
		want = want[k:]
		read += k
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	require.NoError(t, <-errc)
	require.Equal(t, total, read)
}
