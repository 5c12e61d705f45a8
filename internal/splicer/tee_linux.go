package splicer

import (
	"os"
	"syscall"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// Tee moves up to limit bytes (limit < 0: to EOF) from src to both dst and
// side. The source is spliced once into pipe A; tee(2) duplicates A's
// buffers into pipe B (page references, no copy); A drains into dst and B
// into side. Result.N counts the bytes that reached both.
func Tee(dst, side, src End, limit int64) (Result, error) {
	if limit == 0 {
		return Result{Done: true}, nil
	}
	pa, err := Get()
	if err != nil {
		return Result{}, err
	}
	pb, err := Get()
	if err != nil {
		Put(pa)
		return Result{}, err
	}
	a := &twoPhase{p: pa, src: src, dst: dst, remain: limit}
	b := &twoPhase{p: pb, dst: side}
	res, err := teeRun(a, b)
	for _, t := range []*twoPhase{a, b} {
		if t.inPipe == 0 {
			Put(t.p) // re-checked with FIONREAD
		} else {
			t.p.Close()
		}
	}
	return res, err
}

func teeRun(a, b *twoPhase) (Result, error) {
	fill := sys.Waiter{Op: a.fill}
	drainA := sys.Waiter{Op: a.drain}
	drainB := sys.Waiter{Op: b.drain}
	var res Result
	both := func() int64 { return min(a.res.N, b.res.N) }
	for {
		if a.eof || a.remain == 0 {
			res.N, res.Done = both(), true
			return res, nil
		}
		if err := fill.Read(a.src.RC); err != nil {
			res.N = both()
			return res, err
		}
		if a.stop != nil {
			res.N = both()
			return res, a.stop
		}
		if a.fallback != nil && a.inPipe == 0 {
			res.N, res.Fallback = both(), a.fallback
			return res, nil
		}
		// Duplicate A into B: both ours and non-blocking. B is empty and as
		// large as A, but it may hold fewer slots: drain it and go on.
		for teed := 0; teed < a.inPipe; {
			k, err := sys.Tee(a.p.R, b.p.W, a.inPipe-teed, flags)
			if err == syscall.EINTR {
				continue
			}
			if err != nil && err != syscall.EAGAIN {
				res.N = both()
				return res, os.NewSyscallError("tee", err)
			}
			if k > 0 {
				teed += int(k)
				b.inPipe += int(k)
				continue
			}
			if b.inPipe == 0 { // EAGAIN or 0 with room in B: cannot happen; do not spin
				res.N = both()
				return res, os.NewSyscallError("tee", syscall.EIO)
			}
			if err := drainTo(&drainB, b); err != nil {
				res.N = both()
				return res, err
			}
		}
		if err := drainTo(&drainA, a); err != nil {
			res.N = both()
			return res, err
		}
		if err := drainTo(&drainB, b); err != nil {
			res.N = both()
			return res, err
		}
		if a.fallback != nil || b.fallback != nil {
			res.N, res.Fallback = both(), firstErr(a.fallback, b.fallback)
			return res, nil
		}
	}
}

// drainTo empties t's pipe into its destination; a fallback errno is met
// by writing the rest with plain writes.
func drainTo(w *sys.Waiter, t *twoPhase) error {
	if t.inPipe == 0 {
		return nil
	}
	if err := w.Write(t.dst.RC); err != nil {
		return err
	}
	if t.stop != nil {
		return t.stop
	}
	if t.fallback != nil {
		return t.rescue()
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
