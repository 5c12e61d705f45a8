//go:build linux && !purego

package splice

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"

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

	mu     sync.Mutex
	pinned [][]byte // Vmsplice'd buffers, kept alive until the pipe is seen empty
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
		_ = rc.Control(func(fd uintptr) { p.size = splicer.Resize(int(fd), splicer.WantSize) })
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
		_ = rc.Control(func(fd uintptr) { n = max(splicer.Buffered(int(fd)), 0) })
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
// Tee from the pipe finds it empty, or Close. Only then may the caller
// touch bufs again; Len() == 0 says the bytes have left.
func (p *Pipe) Vmsplice(bufs ...[]byte) (int, error) {
	var iov []unix.Iovec
	total := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		v := unix.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		iov = append(iov, v)
		total += len(b)
	}
	if total == 0 {
		return 0, nil
	}
	p.mu.Lock()
	p.pinned = append(p.pinned, bufs...)
	p.mu.Unlock()
	rc, err := p.w.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("splice: Vmsplice: %w", err)
	}
	done := 0
	var verr error
	w := sys.Waiter{Op: func(fd int) bool {
		for done < total {
			k, err := sys.Vmsplice(fd, iov, unix.SPLICE_F_NONBLOCK)
			if err == unix.EINTR {
				continue
			}
			if err == unix.EAGAIN {
				return false
			}
			if err != nil {
				verr = os.NewSyscallError("vmsplice", err)
				return true
			}
			done += k
			iov = advance(iov, k)
		}
		return true
	}}
	if err := w.Write(rc); err != nil {
		return done, err
	}
	return done, verr
}

// advance drops the first k bytes of iov.
func advance(iov []unix.Iovec, k int) []unix.Iovec {
	for k > 0 && len(iov) > 0 {
		l := int(iov[0].Len)
		if k < l {
			iov[0].Base = (*byte)(unsafeAdd(iov[0].Base, k))
			iov[0].SetLen(l - k)
			return iov
		}
		k -= l
		iov = iov[1:]
	}
	return iov
}

func (p *Pipe) unpinIfEmpty() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pinned) > 0 && p.Len() == 0 {
		p.pinned = nil
	}
}

// end describes v as a splice endpoint.
func end(v any, dst bool) (splicer.End, bool) {
	if p, ok := v.(*Pipe); ok {
		f := p.r
		if dst {
			f = p.w
		}
		rc, err := f.SyscallConn()
		if err != nil {
			return splicer.End{}, false
		}
		return splicer.End{RC: rc, Pipe: true, W: p.w}, true
	}
	rc, ok := sys.RawConn(v)
	if !ok {
		return splicer.End{}, false
	}
	e := splicer.End{RC: rc}
	if w, ok := v.(io.Writer); ok && dst {
		e.W = w
	}
	switch splicer.Classify(rc, dst) {
	case splicer.FIFO:
		e.Pipe = true
	case splicer.File:
		e.File = true
	case splicer.Stream:
	case splicer.Char:
		if !dst {
			return e, false
		}
	default:
		return e, false
	}
	return e, true
}

func splice(dst io.Writer, src io.Reader, n int64) (int64, bool, error) {
	s, ok := end(src, false)
	if !ok {
		return 0, false, unsupported("Splice", "the source has no spliceable descriptor (a stream socket, pipe or regular file)")
	}
	d, ok := end(dst, true)
	if !ok {
		return 0, false, unsupported("Splice", "the destination has no spliceable descriptor (a stream socket, pipe, regular file without O_APPEND, or character device)")
	}
	res, err := splicer.Transfer(d, s, n)
	if p, ok := src.(*Pipe); ok {
		p.unpinIfEmpty()
	}
	if err == nil && res.Fallback != nil {
		err = fmt.Errorf("splice: Splice: %w: %w", ErrUnsupported, res.Fallback)
	}
	return res.N, res.Done, err
}

func tee(dst, side io.Writer, src io.Reader, n int64) (int64, bool, error) {
	s, ok := end(src, false)
	if !ok {
		return 0, false, unsupported("Tee", "the source has no spliceable descriptor")
	}
	d, ok := end(dst, true)
	if !ok {
		return 0, false, unsupported("Tee", "dst has no spliceable descriptor")
	}
	sd, ok := end(side, true)
	if !ok {
		return 0, false, unsupported("Tee", "side has no spliceable descriptor")
	}
	res, err := splicer.Tee(d, sd, s, n)
	if p, ok := src.(*Pipe); ok {
		p.unpinIfEmpty()
	}
	if err == nil && res.Fallback != nil {
		err = fmt.Errorf("splice: Tee: %w: %w", ErrUnsupported, res.Fallback)
	}
	return res.N, res.Done, err
}
