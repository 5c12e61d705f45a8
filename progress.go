package zerocopy

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// ProgressInterval is the least time between two calls of Copier.Progress
// during one transfer.
const ProgressInterval = 100 * time.Millisecond

// progressChunk bounds what one copy_file_range or sendfile call moves
// while a transfer has a Progress callback or a context, so that both are
// looked at between calls (BENCHMARKS.md, "What bounded calls cost": 8 MiB
// is within noise of single 2 GiB calls).
var progressChunk = 8 << 20

// progress is the state of Copier.Progress and a context for one call. A
// nil *progress (neither is set) does nothing, at no cost.
type progress struct {
	fn   func(done int64)
	ctx  context.Context
	done int64     // bytes that reached the destination
	told int64     // done at the last call of fn
	last time.Time // time of the last call of fn
}

func (c *Copier) newProgress(ctx context.Context) *progress {
	if c.Progress == nil && (ctx == nil || ctx.Done() == nil) {
		return nil
	}
	p := &progress{fn: c.Progress}
	if ctx != nil && ctx.Done() != nil {
		p.ctx = ctx
	}
	return p
}

// add records k more bytes at the destination, calls fn if ProgressInterval
// has passed since its last call, and returns the context's error once it
// is done.
func (p *progress) add(k int64) error {
	if p == nil {
		return nil
	}
	p.done += k
	if p.fn != nil && p.done != p.told {
		if now := time.Now(); now.Sub(p.last) >= ProgressInterval {
			p.last, p.told = now, p.done
			p.fn(p.done)
		}
	}
	if p.ctx != nil {
		return p.ctx.Err()
	}
	return nil
}

// context is the call's context, or nil.
func (p *progress) context() context.Context {
	if p == nil {
		return nil
	}
	return p.ctx
}

// check returns the context's error once it is done.
func (p *progress) check() error {
	if p == nil || p.ctx == nil {
		return nil
	}
	return p.ctx.Err()
}

// finish calls fn with the final count if it has not seen it.
func (p *progress) finish() {
	if p != nil && p.fn != nil && p.done != p.told {
		p.told = p.done
		p.fn(p.done)
	}
}

// progressWriter counts what reaches w (the direct-I/O path writes through
// it).
type progressWriter struct {
	w io.Writer
	p *progress
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	if perr := pw.p.add(int64(n)); perr != nil && err == nil {
		err = perr
	}
	return n, err
}

type readDeadliner interface{ SetReadDeadline(time.Time) error }
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

// wake makes ctx's end wake a transfer waiting on src (the value holding
// the source descriptor) or dst: it sets a deadline in the past on the
// values that take deadlines (sockets, pipes; a regular file never waits).
// The returned function undoes it: if ctx ended, the deadlines it set are
// cleared.
func wake(ctx context.Context, dst io.Writer, src any) (undo func()) {
	if ctx == nil || ctx.Done() == nil {
		return func() {}
	}
	rd, _ := src.(readDeadliner)
	wd, _ := dst.(writeDeadliner)
	if rd == nil && wd == nil {
		return func() {}
	}
	var mu sync.Mutex
	fired := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		fired = true
		past := time.Unix(1, 0)
		if rd != nil {
			_ = rd.SetReadDeadline(past)
		}
		if wd != nil {
			_ = wd.SetWriteDeadline(past)
		}
	})
	return func() {
		stop()
		mu.Lock() // waits for a running AfterFunc
		defer mu.Unlock()
		if fired {
			if rd != nil {
				_ = rd.SetReadDeadline(time.Time{})
			}
			if wd != nil {
				_ = wd.SetWriteDeadline(time.Time{})
			}
		}
	}
}

// ctxErr gives err the context's error once ctx has ended: a deadline we
// set to wake the transfer (os.ErrDeadlineExceeded) or any other error the
// end caused.
func ctxErr(ctx context.Context, op string, err error) error {
	if err == nil || ctx == nil {
		return err
	}
	cerr := ctx.Err()
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &opError{op: op, err: cerr}
	}
	return errors.Join(&opError{op: op, err: cerr}, err)
}

type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return "zerocopy: " + e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }
