//go:build !linux || purego

package splice

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// Pipe is an os.Pipe on this platform: Splice and Tee do not use it (they
// report errors.ErrUnsupported), and Vmsplice writes a copy.
type Pipe struct {
	r, w     *os.File
	buffered atomic.Int64
}

// NewPipe creates a pipe.
func NewPipe() (*Pipe, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("splice: NewPipe: %w", err)
	}
	return &Pipe{r: r, w: w}, nil
}

// Read reads from the pipe's read end.
func (p *Pipe) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.buffered.Add(-int64(n))
	return n, err
}

// Write writes into the pipe's write end.
func (p *Pipe) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.buffered.Add(int64(n))
	return n, err
}

// Len returns the bytes written and not yet read through this Pipe.
func (p *Pipe) Len() int { return int(max(p.buffered.Load(), 0)) }

// Cap returns 0: the capacity is not known on this platform.
func (p *Pipe) Cap() int { return 0 }

// CloseWrite closes the write end: a reader sees EOF after the buffered
// bytes.
func (p *Pipe) CloseWrite() error { return p.w.Close() }

// Close closes both ends.
func (p *Pipe) Close() error { return errors.Join(closeWriteEnd(p.w), p.r.Close()) }

// Vmsplice writes a copy of bufs: this platform has no vmsplice. The
// caller may reuse bufs as soon as it returns.
func (p *Pipe) Vmsplice(bufs ...[]byte) (int, error) {
	n := 0
	for _, b := range bufs {
		k, err := p.Write(b)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func splice(dst io.Writer, src io.Reader, n int64) (int64, bool, error) {
	return 0, false, unsupported("Splice", "no splice(2) in this build")
}

func tee(dst, side io.Writer, src io.Reader, n int64) (int64, bool, error) {
	return 0, false, unsupported("Tee", "no tee(2) in this build")
}

func unsupported(op, why string) error {
	return fmt.Errorf("splice: %s: %s: %w", op, why, errors.ErrUnsupported)
}
