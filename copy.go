package zerocopy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/zerocopy-go/zerocopy/directio"
)

// tally collects what the paths of one transfer did, for the Report.
type tally struct {
	bytes    [numMethods]int64
	finished Method // the fast path that reached the end of the range
	ran      bool   // finished is set
	zero     bool   // a fast path stopped on a 0 return before the file's end
	fallback error
	prog     *progress // Progress and the context; nil: neither
	buf      []byte    // CopyBuffer's buffer; nil: a pooled one
}

func (t *tally) note(err error) {
	if err == nil {
		return
	}
	if t.fallback == nil {
		t.fallback = err
	} else {
		t.fallback = errors.Join(t.fallback, err)
	}
}

func (t *tally) report() Report {
	r := Report{Method: MethodBuffered}
	var most int64
	for m, n := range t.bytes {
		r.Bytes += n
		if n > most {
			most, r.Method = n, Method(m)
		}
	}
	if most == 0 && t.ran {
		r.Method = t.finished
	}
	r.Fallback = t.fallback
	return r
}

func (c *Copier) observe(t *tally) {
	t.prog.finish()
	if c.Observe != nil {
		c.Observe(t.report())
	}
}

// Copy is the package-level Copy with this Copier's options.
func (c *Copier) Copy(dst io.Writer, src io.Reader) (int64, error) {
	return c.copy(context.Background(), "Copy", dst, src, -1, nil)
}

// CopyBuffer is the package-level CopyBuffer with this Copier's options.
func (c *Copier) CopyBuffer(dst io.Writer, src io.Reader, buf []byte) (int64, error) {
	if buf != nil && len(buf) == 0 {
		panic("empty buffer in CopyBuffer") // io.CopyBuffer's words
	}
	return c.copy(context.Background(), "CopyBuffer", dst, src, -1, buf)
}

// CopyContext is the package-level CopyContext with this Copier's options.
func (c *Copier) CopyContext(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	if ctx == nil {
		return 0, errors.New("zerocopy: CopyContext: nil Context")
	}
	if err := ctx.Err(); err != nil {
		if dst == nil || src == nil {
			return 0, nilArgError("CopyContext", dst == nil)
		}
		return 0, &opError{op: "CopyContext", err: err}
	}
	undo := wake(ctx, dst, src)
	n, err := c.copy(ctx, "CopyContext", dst, src, -1, nil)
	undo()
	return n, ctxErr(ctx, "CopyContext", err)
}

// CopyN is the package-level CopyN with this Copier's options.
func (c *Copier) CopyN(dst io.Writer, src io.Reader, n int64) (int64, error) {
	if n <= 0 {
		if dst == nil || src == nil {
			return 0, nilArgError("CopyN", dst == nil)
		}
		var t tally
		c.observe(&t)
		return 0, nil
	}
	written, err := c.copy(context.Background(), "CopyN", dst, src, n, nil)
	if written == n {
		return n, nil
	}
	if written < n && err == nil {
		err = io.EOF // src stopped early, as io.CopyN reports it
	}
	return written, err
}

func nilArgError(op string, dst bool) error {
	if dst {
		return errors.New("zerocopy: " + op + ": nil destination io.Writer")
	}
	return errors.New("zerocopy: " + op + ": nil source io.Reader")
}

// copy is the entry of Copy, CopyN, CopyBuffer and CopyContext.
func (c *Copier) copy(ctx context.Context, op string, dst io.Writer, src io.Reader, limit int64, buf []byte) (written int64, err error) {
	if dst == nil || src == nil {
		return 0, nilArgError(op, dst == nil)
	}
	// A stand-in handed to a wrapper came back (a ReadFrom calling Copy on
	// its receiver, a WriteTo calling Copy(w, itself)): continue the
	// transfer it belongs to, which reports it.
	if s, ok := src.(*srcStandIn); ok {
		return s.copyTo(dst, limit)
	}
	if d, ok := dst.(*dstStandIn); ok {
		return d.copyFrom(src, limit)
	}
	var t tally
	t.prog, t.buf = c.newProgress(ctx), buf
	defer c.observe(&t)
	return c.copyT(dst, src, limit, &t, nil)
}

// copy moves bytes from src to dst until EOF or, when limit >= 0, until
// limit bytes have moved.
// ch is the transfer's chain when a stand-in runs it (nil: none yet).
func (c *Copier) copyT(dst io.Writer, src io.Reader, limit int64, t *tally, ch *chain) (written int64, err error) {
	if n, err, ok := c.stdlib(dst, src, limit, t); ok {
		return n, err
	}

	// Look through the wrappers the stdlib's own fast paths skip
	// (golang/go#61727): the fast path needs the descriptor and the range.
	remain := limit
	holder := any(src) // the value that may hold the source descriptor
	off := int64(-1)   // explicit source offset; -1: the file's own offset
	lr, _ := src.(*io.LimitedReader)
	if lr != nil {
		if lr.N <= 0 {
			return 0, nil
		}
		remain = minLimit(remain, lr.N)
		holder = lr.R
	}
	sr, _ := holder.(*io.SectionReader)
	var srPos int64
	if sr != nil {
		ra, base, _ := sr.Outer()
		// Size, not Outer's n: NewSectionReader turns an n that overflows
		// base+n into "to the end of the offsets" (its limit), and so must
		// we.
		size := sr.Size()
		srPos, _ = sr.Seek(0, io.SeekCurrent) // never fails for SeekCurrent
		if srPos >= size {
			return 0, nil
		}
		remain = minLimit(remain, size-srPos)
		holder, off = ra, base+srPos
		if off < 0 {
			// A negative section offset is the ReaderAt's error to report
			// ("negative offset"), never the "file's own offset" sentinel.
			holder, sr = nil, nil
		}
	}

	n, done, err, used := c.directCopy(t.directDst(dst), holder, off, remain, t)
	if !used {
		if n, err, ok := c.delegate(dst, src, limit, t, ch); ok {
			return n, err
		}
		n, done, err = fastCopy(dst, holder, off, remain, t)
	}
	written = n
	if n > 0 {
		// Move the wrappers past what the kernel moved, so the fallback
		// resumes at the exact next byte and the caller sees them advanced.
		if lr != nil {
			lr.N -= n
		}
		if sr != nil {
			_, _ = sr.Seek(srPos+n, io.SeekStart)
		}
	}
	if err != nil || done || (limit >= 0 && written == limit) {
		return written, err
	}

	r := src
	if limit >= 0 {
		r = &io.LimitedReader{R: src, N: limit - written}
	}
	m, err := c.buffered(dst, r, isFile(holder), t)
	if m > 0 && t.zero {
		t.note(errZeroBeforeEOF)
	}
	return written + m, err
}

var errZeroBeforeEOF = errors.New("zerocopy: the kernel returned 0 bytes before the end of the file")

func minLimit(limit, n int64) int64 {
	if limit < 0 || n < limit {
		return n
	}
	return limit
}

func isFile(v any) bool {
	_, ok := v.(*os.File)
	return ok
}

// SendFile is the package-level SendFile with this Copier's options.
func (c *Copier) SendFile(dst io.Writer, f *os.File, offset, count int64) (written int64, err error) {
	switch {
	case dst == nil:
		return 0, nilArgError("SendFile", true)
	case f == nil:
		return 0, errors.New("zerocopy: SendFile: nil *os.File")
	case offset < 0:
		return 0, fmt.Errorf("zerocopy: SendFile: negative offset %d", offset)
	case count == 0:
		var t tally
		c.observe(&t)
		return 0, nil
	}
	var t tally
	t.prog = c.newProgress(context.Background())
	defer c.observe(&t)

	if count < 0 {
		count = -1
	}
	written, err = c.sendFileT(dst, f, offset, count, &t, nil)
	if err == nil && count >= 0 && written < count {
		err = fmt.Errorf("zerocopy: SendFile: %w: %d of %d bytes from offset %d of %s",
			io.ErrUnexpectedEOF, written, count, offset, f.Name())
	}
	return written, err
}

// sendFileT moves count bytes of f from offset (count -1: to EOF) to dst.
// A short count with a nil error means f ended.
func (c *Copier) sendFileT(dst io.Writer, f *os.File, offset, count int64, t *tally, ch *chain) (written int64, err error) {
	n, done, err, used := c.directCopy(t.directDst(dst), f, offset, count, t)
	if !used {
		if rf, ok := delegableDst(dst, ch); ok && enter(dst) {
			defer leave(dst)
			return c.delegateDst(rf, dst, &srcStandIn{f: f, off: offset, limit: count}, t, ch)
		}
		n, done, err = fastCopy(dst, f, offset, count, t)
	}
	written = n
	if err == nil && !done && written != count {
		// pread from the exact next byte: f's offset is never touched.
		var m int64
		m, err = c.buffered(dst, io.NewSectionReader(f, offset+written, sectionSize(offset+written, count-written)), true, t)
		if m > 0 && t.zero {
			t.note(errZeroBeforeEOF)
		}
		written += m
	}
	return written, err
}

// sectionSize is the size of a section of count bytes from off (count < 0:
// to the end of the offsets).
func sectionSize(off, count int64) int64 {
	if count < 0 {
		return math.MaxInt64 - off
	}
	return count
}

// directDst is the destination the direct-I/O path writes to: dst itself,
// or dst behind a counter when the call reports progress or has a context.
func (t *tally) directDst(dst io.Writer) io.Writer {
	if t.prog == nil {
		return dst
	}
	return &progressWriter{w: dst, p: t.prog}
}

// directCopy streams a regular-file source at least c.DirectIOThreshold
// bytes large through a direct-I/O Reader. used is false when it did not
// apply (no threshold, a smaller or non-regular source, O_DIRECT refused at
// open, or the first direct read failed before any byte moved): the usual
// paths then run, from the same byte, and t records why.
func (c *Copier) directCopy(dst io.Writer, src any, off, remain int64, t *tally) (n int64, done bool, err error, used bool) {
	f, ok := src.(*os.File)
	if c.DirectIOThreshold <= 0 || !ok || remain == 0 {
		return 0, false, nil, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < c.DirectIOThreshold {
		return 0, false, nil, false
	}
	g, err := directio.ReopenDirect(f)
	if err != nil {
		t.note(err)
		return 0, false, nil, false
	}
	defer g.Close()
	start := off
	if start < 0 {
		if start, err = f.Seek(0, io.SeekCurrent); err != nil {
			return 0, false, nil, false
		}
	}
	if _, err := g.Seek(start, io.SeekStart); err != nil {
		return 0, false, nil, false
	}
	r, err := directio.NewReader(g, nil)
	if err != nil {
		t.note(err)
		return 0, false, nil, false
	}
	rw := &recordWriter{w: dst}
	lw := &limitWriter{w: rw, left: remain}
	n, err = r.WriteTo(lw)
	_ = r.Close()
	if err == errLimit {
		err = nil
	}
	if n == 0 && err != nil && rw.err == nil {
		// The O_DIRECT open succeeded but the first read failed (EINVAL,
		// EOPNOTSUPP or EIO: FUSE, some overlay and network filesystems
		// take O_DIRECT at open and refuse the reads). Nothing has moved
		// and f's offset is untouched: the usual paths run from the same
		// byte, and report the error themselves if it is real.
		t.note(err)
		return 0, false, nil, false
	}
	t.bytes[MethodDirectIO] += n
	if err == nil {
		t.finished, t.ran = MethodDirectIO, true
	}
	if off < 0 && n > 0 {
		if _, serr := f.Seek(start+n, io.SeekStart); serr != nil && err == nil {
			err = serr
		}
	}
	return n, err == nil, err, true
}

// recordWriter passes writes on to w and keeps w's first error, so that a
// failure of the destination is told apart from a failure of the source.
type recordWriter struct {
	w   io.Writer
	err error
}

func (r *recordWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// limitWriter passes on at most left bytes (left < 0: all), then stops the
// writer feeding it with errLimit.
type limitWriter struct {
	w    io.Writer
	left int64
}

var errLimit = errors.New("zerocopy: limit reached")

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.left < 0 {
		return l.w.Write(p)
	}
	short := int64(len(p)) > l.left
	if short {
		p = p[:l.left]
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	if err == nil && (short || l.left == 0) {
		err = errLimit
	}
	return n, err
}
