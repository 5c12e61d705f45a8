package zerocopy

import (
	"errors"
	"io"
	"sync"
)

const (
	// defaultFileBuffer is the fallback buffer for *os.File sources (see
	// Copier.BufferSize for the measurement).
	defaultFileBuffer = 1 << 20
	// defaultStreamBuffer is the fallback buffer for every other source.
	defaultStreamBuffer = 256 << 10
)

var errInvalidWrite = errors.New("zerocopy: invalid write result")

// pools holds one *sync.Pool of *[]byte per buffer size in use.
var pools sync.Map // int -> *sync.Pool

func getBuffer(size int) *[]byte {
	p, ok := pools.Load(size)
	if !ok {
		p, _ = pools.LoadOrStore(size, &sync.Pool{New: func() any {
			b := make([]byte, size)
			return &b
		}})
	}
	return p.(*sync.Pool).Get().(*[]byte)
}

func putBuffer(b *[]byte) {
	if p, ok := pools.Load(len(*b)); ok {
		p.(*sync.Pool).Put(b)
	}
}

// buffered copies src to dst through a pooled buffer (or CopyBuffer's)
// until EOF or an error. With a Progress callback or a context it reports
// after each write and stops between writes once the context is done.
// Unlike io.CopyBuffer it never calls dst.ReadFrom or src.WriteTo.
func (c *Copier) buffered(dst io.Writer, src io.Reader, fromFile bool, t *tally) (written int64, err error) {
	buf := t.buf
	if buf == nil {
		size := c.BufferSize
		if size <= 0 {
			size = defaultStreamBuffer
			if fromFile {
				size = defaultFileBuffer
			}
		}
		bp := getBuffer(size)
		defer putBuffer(bp)
		buf = *bp
	}
	if l, ok := src.(*io.LimitedReader); ok && int64(len(buf)) > l.N {
		if l.N < 1 {
			buf = buf[:1]
		} else {
			buf = buf[:l.N]
		}
	}
	defer func() { t.bytes[MethodBuffered] += written }()
	if err := t.prog.check(); err != nil {
		return 0, err
	}
	for {
		nr, er := src.Read(buf)
		if nr > 0 {
			nw, ew := dst.Write(buf[:nr])
			if nw < 0 || nr < nw {
				nw = 0
				if ew == nil {
					ew = errInvalidWrite
				}
			}
			written += int64(nw)
			if ew != nil {
				return written, ew
			}
			if ew = t.prog.add(int64(nw)); ew != nil {
				return written, ew
			}
			if nr != nw {
				return written, io.ErrShortWrite
			}
		}
		if er != nil {
			if er == io.EOF {
				return written, nil
			}
			return written, er
		}
	}
}
