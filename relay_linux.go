//go:build linux && !purego

package zerocopy

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zerocopy-go/zerocopy/internal/splicer"
	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// relaySplice splices e.src to e.dst until EOF, an error, or a fallback.
// spliced says the transfer ran (both ends could be spliced). When it
// returns a nil error with t.ended false, the caller goes on with the
// buffered path at the exact next byte (bytes in the pipe were written to
// dst first). A conn that cannot be spliced is named, with its type, in
// t's reasons.
//
// An idle direction waits here, in sys.WaitReadable, not inside the
// transfer: the transfer returns when its source is empty (End.Unwind),
// so that a goroutine waiting for a silent peer holds a shallow stack
// (BENCHMARKS.md, "Relay: idle memory"). Its state is on the heap for the
// same reason.
//
// With e.side set, the bytes also go to it with tee(2) where it has a
// spliceable descriptor; otherwise this returns at once, for the buffered
// path to write both.
func relaySplice(d *dirState, progress *atomic.Int64) (n int64, spliced bool, err error) {
	sp := &d.sp
	if !sp.open(&d.e, progress, &d.t) {
		return 0, false, nil
	}
	err = sp.run(&d.e, &d.t)
	return sp.n, true, err
}

// spliceState is one direction's splice state: its ends as splicer.Open
// described them, kept small (it is part of every relay, idle or not).
type spliceState struct {
	rcS, rcD syscall.RawConn
	stS, stD sys.Stat
	side     *splicer.End // TeeAToB's, or nil
	stepped  func(int)
	n        int64 // bytes that reached the destination
}

// open describes both ends (and TeeAToB's) for splicing, or notes why they
// cannot be spliced and reports false.
func (sp *spliceState) open(e *relayEnd, progress *atomic.Int64, t *tally) bool {
	if why := unavailable(MethodSplice); why != nil {
		t.note(why)
		return false
	}
	s, serr := splicer.Open(e.src, false)
	if serr == nil && s.Kind != sys.KindStream && s.Kind != sys.KindPipe {
		serr = fmt.Errorf("a %v: %w", s.Kind, ErrUnsupported)
	}
	d, derr := splicer.Open(e.dst, true)
	if serr != nil || derr != nil {
		t.note(cannotSplice(e.srcName(), e.src, serr))
		t.note(cannotSplice(e.dstName(), e.dst, derr))
		return false
	}
	sp.rcS, sp.stS, sp.rcD, sp.stD = s.RC, s.Stat, d.RC, d.Stat
	sp.stepped = func(n int) { progress.Add(int64(n)) }
	if e.side != nil {
		side, err := splicer.Open(e.side, true)
		if err != nil {
			t.note(fmt.Errorf("zerocopy: Relay: TeeAToB (%T): %w", e.side, err))
			return false
		}
		sp.side = &side
	}
	return true
}

// run transfers until the end, waiting for the source between transfers.
// Its frame is small: it is on the stack while the direction waits.
func (sp *spliceState) run(e *relayEnd, t *tally) error {
	for stale := 0; ; {
		res, err := sp.transfer(e)
		sp.n += res.N
		if err != nil || !res.Waiting {
			return sp.result(e, t, res, err)
		}
		t.add(MethodSplice, res.N)
		// A poll that said "readable" and a splice that said "empty" at
		// once, again and again, would spin: slow down instead.
		if stale = stale + 1; res.N > 0 {
			stale = 0
		} else if stale > 8 {
			time.Sleep(time.Millisecond)
		}
		if err := sys.WaitReadable(sp.rcS); err != nil {
			return connError("read", e.src, err)
		}
	}
}

// transfer runs one transfer: to the source's EOF, an error, a fallback,
// or (without TeeAToB) until the source is empty (Result.Waiting).
//
//go:noinline
func (sp *spliceState) transfer(e *relayEnd) (splicer.Result, error) {
	d := splicer.End{RC: sp.rcD, Stat: sp.stD, W: e.dst, Stepped: sp.stepped}
	s := splicer.End{RC: sp.rcS, Stat: sp.stS}
	if sp.side == nil {
		s.Unwind = true
		return splicer.Transfer(d, s, sys.NoLimit)
	}
	res, err := splicer.Tee(d, *sp.side, s, sys.NoLimit)
	if err == nil && res.Side != res.N {
		err = fmt.Errorf("zerocopy: Relay: the tee got %d bytes, b %d", res.Side, res.N)
	}
	return res, err
}

// result accounts for the last transfer and gives its error the relay's
// shape: the conn that failed, or TeeAToB.
func (sp *spliceState) result(e *relayEnd, t *tally, res splicer.Result, err error) error {
	if sp.side != nil && err != nil && res.N == 0 && res.Side == 0 && errors.Is(err, ErrUnsupported) {
		t.note(err) // no pipe to be had: nothing consumed, the buffered path takes over
		return nil
	}
	t.addSplice(res, err)
	if err == nil {
		return nil
	}
	switch res.Failed {
	case splicer.AtSrc:
		return connError("read", e.src, err)
	case splicer.AtDst:
		return connError("write", e.dst, err)
	case splicer.AtSide:
		return fmt.Errorf("zerocopy: Relay: TeeAToB: %w", err)
	}
	return err
}

// cannotSplice names a conn that cannot be spliced and why (nil: it can).
func cannotSplice(name string, c net.Conn, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
		return nil // closed under the relay: its Read or Write says so
	}
	return fmt.Errorf("zerocopy: Relay: conn %s (%T): %w", name, c, err)
}
