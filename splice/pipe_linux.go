//go:build linux && !purego

package splice

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// Pipe is a kernel pipe used as an in-kernel buffer. Its ends are *os.File
// values in non-blocking mode, driven by the netpoller, so Read and Write
// block like an os.Pipe's and Close from another goroutine wakes them. A
// Pipe is safe for concurrent use by one reader and one writer.
type Pipe struct {
	r, w *os.File
	size int

	mu       sync.Mutex
	pinned   [][]byte // Vmsplice'd buffers, kept alive until the pipe is seen empty
	inFlight int      // Vmsplice calls in progress: their buffers stay pinned
}

// NewPipe creates a pipe sized to 1 MiB where the kernel allows, else the
// kernel's default. A refused F_SETPIPE_SZ (EPERM past
// pipe-user-pages-soft, or above pipe-max-size without CAP_SYS_RESOURCE)
// is not an error. The caller owns the Pipe and closes it; one dropped
// unclosed is closed by its ends' cleanups when garbage-collected.
func NewPipe() (*Pipe, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("splice: NewPipe: %w", err)
	}
	p := &Pipe{r: r, w: w, size: 64 << 10}
	if rc, err := w.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { p.size = sys.SetPipeSize(int(fd), splicer.WantSize) })
	}
	return p, nil
}

// Read reads from the pipe's read end.
func (p *Pipe) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.unpinIfEmpty()
	return n, err
}

// Write writes into the pipe's write end.
func (p *Pipe) Write(b []byte) (int, error) { return p.w.Write(b) }

// Len returns the bytes buffered in the pipe (FIONREAD), or 0 after Close.
func (p *Pipe) Len() int {
	n := 0
	if rc, err := p.r.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { n = max(sys.Buffered(int(fd)), 0) })
	}
	return n
}

// Cap returns the pipe's capacity in bytes (F_GETPIPE_SZ).
func (p *Pipe) Cap() int { return p.size }

// CloseWrite closes the write end: a reader sees EOF after the buffered
// bytes.
func (p *Pipe) CloseWrite() error { return p.w.Close() }

// Close closes both ends and releases the Vmsplice'd buffers.
func (p *Pipe) Close() error {
	err := errors.Join(closeWriteEnd(p.w), p.r.Close())
	p.mu.Lock()
	p.pinned = nil
	p.mu.Unlock()
	return err
}

// Vmsplice moves the bytes of bufs into the pipe by reference: the pipe
// holds the pages of bufs themselves, not a copy. It blocks until every
// byte is in the pipe (a reader must make room for more than Cap).
//
// The bytes leave when the pipe is read or spliced out, and they are read
// from bufs' memory at that moment: change or reuse bufs before then and
// the new bytes are what arrive. The Pipe keeps a reference to bufs, so the
// garbage collector cannot reuse their memory, until a Read, a Splice or
// Tee from the pipe finds it empty with no Vmsplice in progress, or Close.
// Only then may the caller touch bufs again; Len() == 0 says the bytes
// have left.
func (p *Pipe) Vmsplice(bufs ...[]byte) (int, error) {
	var iov []sys.Iovec
	total := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		iov = append(iov, sys.MakeIovec(b))
		total += len(b)
	}
	if total == 0 {
		return 0, nil
	}
	rc, err := p.w.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("splice: Vmsplice: %w", err)
	}
	// Pin before the call and count it in flight: a concurrent Read that
	// empties the pipe must not unpin buffers this call is about to put in.
	p.mu.Lock()
	p.pinned = append(p.pinned, bufs...)
	p.inFlight++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()
	loop := sys.Loop{Name: "vmsplice", Table: sys.VmspliceErrors, Call: func(fd int) (int, error) {
		return sys.Vmsplice(fd, iov, sys.SpliceFlags)
	}}
	done := 0
	for done < total {
		k, act, err := loop.Write(rc, done > 0)
		switch act {
		case sys.Done:
			done += k
			iov = sys.AdvanceIovecs(iov, k)
		case sys.Fallback, sys.Missing:
			return done, fmt.Errorf("splice: Vmsplice: %w: %w", errors.ErrUnsupported, err)
		default:
			return done, err
		}
	}
	return done, nil
}

func (p *Pipe) unpinIfEmpty() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pinned) > 0 && p.inFlight == 0 && p.Len() == 0 {
		p.pinned = nil
	}
}
