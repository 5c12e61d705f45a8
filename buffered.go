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

// buffered is the last try: it copies the rest of s to dst through a
// buffer (CopyBuffer's, or a pooled one), from the exact next byte.
func (k *call) buffered(dst io.Writer, s *source) (int64, bool, error) {
	buf := k.buf
	if buf == nil {
		bp := getBuffer(k.c.bufferSize(s.file() != nil))
		defer putBuffer(bp)
		buf = *bp
	}
	var r io.Reader = s.r
	if r == nil || s.remain != noLimit {
		// The range's own Read (a limit, or SendFile's ReadAt), through a
		// copy of s: handing s itself to an io.Reader would put every
		// call's source on the heap.
		rs := new(source)
		*rs = *s
		defer func() { *s = *rs }()
		r = rs
	}
	n, err := copyBuffer(dst, r, buf, k.prog)
	k.t.add(MethodBuffered, n)
	if n > 0 && k.t.zero {
		k.t.note(errZeroBeforeEOF)
	}
	return n, true, err
}

// bufferSize is the buffered path's buffer for a file source or another.
func (c *Copier) bufferSize(fromFile bool) int {
	switch {
	case c.BufferSize > 0:
		return c.BufferSize
	case fromFile:
		return defaultFileBuffer
	}
	return defaultStreamBuffer
}

// copyBuffer copies src to dst through buf until EOF or an error. With a
// Progress callback or a context (prog) it reports after each write and
// stops between writes once the context is done. Unlike io.CopyBuffer it
// never calls dst.ReadFrom or src.WriteTo.
func copyBuffer(dst io.Writer, src io.Reader, buf []byte, prog *progress) (written int64, err error) {
	if err := prog.check(); err != nil {
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
			if ew == nil {
				ew = prog.add(int64(nw))
			}
			if ew == nil && nr != nw {
				ew = io.ErrShortWrite
			}
			if ew != nil {
				return written, ew
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
