package splicer

import (
	"errors"
	"os"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// Tee moves up to limit bytes (sys.NoLimit: to EOF) from src to both dst and
// side. The source is spliced once into pipe A; tee(2) duplicates A's
// buffers into pipe B (page references, no copy); A drains into dst and B
// into side. Result.N counts the bytes that reached dst, Result.Side those
// that reached side: after an error they may differ.
func Tee(dst, side, src End, limit int64) (res Result, err error) {
	if limit == 0 {
		return Result{Done: true}, nil
	}
	a := newTwoPhase(dst, src, limit)
	b := newTwoPhase(side, End{}, sys.NoLimit)
	a.keep, b.keep = true, true
	defer a.free()
	defer b.free()
	if a.p, err = get(); err != nil {
		return res, err
	}
	if b.p, err = get(); err != nil {
		return res, err
	}
	for {
		if end, err := a.fillStep(&res); end {
			return res, err
		}
		fb, end, err := duplicate(a, b, &res)
		if end {
			return res, err
		}
		if fb, err = deliver(a, b, fb, &res); err != nil || fb != nil {
			res.Fallback = fb
			return res, err
		}
	}
}

// duplicate tees A's chunk into B: both pipes ours and non-blocking. B is
// empty and as large as A, but it may hold fewer slots: drain it and go
// on. fb is a fallback met by B's drain (the rest was rescued into side).
// end is true when the transfer ends here: tee(2) failed and the chunk was
// delivered with plain writes (teeRescue), or a drain failed (err).
func duplicate(a, b *twoPhase, res *Result) (fb error, end bool, err error) {
	for teed := 0; teed < a.inPipe; {
		k, terr := sys.Tee(a.p.r, b.p.w, a.inPipe-teed, sys.SpliceFlags)
		if terr == nil && k > 0 {
			teed += k
			b.inPipe += k
			continue
		}
		act, why := sys.Action(sys.Fallback), error(errZeroTee)
		if terr != nil {
			act, why = sys.Try("tee", sys.TeeErrors, true, terr)
		}
		switch {
		case act == sys.Retry:
		case act == sys.Wait && b.inPipe > 0:
			n, bfb, err := b.drainAll()
			res.Side += n
			if err != nil {
				res.Failed = AtSide
				return nil, true, err
			}
			fb = firstErr(fb, bfb)
		default:
			// tee(2) itself failed (ENOSYS, EPERM under seccomp, EINVAL,
			// EAGAIN with B empty, ...): it only duplicates between two
			// pipes of ours, so dst and side are fine. The chunk is in A,
			// and its first teed bytes in B: deliver both with plain
			// writes and hand over.
			if why == nil {
				why = os.NewSyscallError("tee", terr)
			}
			return nil, true, teeRescue(a, b, teed, why, res)
		}
	}
	return fb, false, nil
}

// deliver drains A into dst and B into side. It returns the first fallback
// met by either drain (fb first), with the pipes emptied.
func deliver(a, b *twoPhase, fb error, res *Result) (error, error) {
	n, afb, err := a.drainAll()
	res.N += n
	if err != nil {
		res.Failed = AtDst
		return nil, err
	}
	if err := a.dst.moved(n); err != nil {
		return nil, err
	}
	n, bfb, err := b.drainAll()
	res.Side += n
	if err != nil {
		res.Failed = AtSide
		return nil, err
	}
	return firstErr(fb, afb, bfb), nil
}

var errZeroTee = errors.New("tee: 0 bytes duplicated from a non-empty pipe")

// teeRescue delivers a chunk that tee(2) could not duplicate: B's bytes
// (the chunk's first teed bytes) go to side by splice, then A's whole chunk
// is read out and written to dst, and its part past teed to side, with
// their own Writes. On success the transfer hands over to a plain copy
// (res.Fallback = why, a nil error); no byte taken from the source is lost.
func teeRescue(a, b *twoPhase, teed int, why error, res *Result) error {
	n, _, err := b.drainAll() // a fallback here was rescued into side already
	res.Side += n
	if err != nil {
		res.Failed = AtSide
		return err
	}
	if a.dst.W == nil || b.dst.W == nil {
		return why
	}
	buf := make([]byte, min(a.inPipe, 64<<10))
	for off := 0; a.inPipe > 0; {
		k, rerr := sys.Read(a.p.r, buf[:min(len(buf), a.inPipe)])
		if rerr == sys.EINTR {
			continue
		}
		if rerr != nil || k <= 0 {
			return errors.Join(why, os.NewSyscallError("read", rerr))
		}
		a.inPipe -= k
		w, werr := a.dst.W.Write(buf[:k])
		res.N += int64(w)
		if werr != nil {
			res.Failed = AtDst
			return werr
		}
		if werr := a.dst.moved(int64(w)); werr != nil {
			return werr
		}
		if skip := max(teed-off, 0); skip < k {
			w, werr := b.dst.W.Write(buf[skip:k])
			res.Side += int64(w)
			if werr != nil {
				res.Failed = AtSide
				return werr
			}
		}
		off += k
	}
	res.Fallback = why
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
