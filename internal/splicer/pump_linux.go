package splicer

import (
	"errors"
	"os"
	"sync"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// Result is what a transfer did.
type Result struct {
	N        int64 // bytes that reached the destination
	Side     int64 // Tee only: bytes that reached the side destination
	Done     bool  // the source hit EOF or the limit: nothing is left to move
	Fallback error // why splicing stopped early (with Done false and a nil error); the pipe was emptied into the destination first
	Missing  bool  // the fallback was ENOSYS (sys.Missing): splice does not exist here
	Failed   Where // with a final error: the end whose call failed, for the caller's error
	Waiting  bool  // the source is empty and End.Unwind is set: wait for it, then call again
}

// Where names an end of a transfer.
type Where uint8

const (
	Nowhere Where = iota // no end's call failed (the caller's Moved stopped the transfer)
	AtSrc                // the source: a fill
	AtDst                // the destination: a drain, or the rescue's Write
	AtSide               // Tee's side destination
)

// Transfer moves up to limit bytes (sys.NoLimit: to EOF) from src to dst.
// A non-nil error is final and Result.N is exact. A nil error with Done
// false asks the caller to continue with a plain copy from the next byte;
// Result.Fallback says why.
func Transfer(dst, src End, limit int64) (Result, error) {
	if limit == 0 {
		return Result{Done: true}, nil
	}
	// Direct splicing needs one side to be a pipe and an EAGAIN that says
	// which side is blocked. From a pipe, or from a file into a pipe, it
	// does. A socket into a pipe does not (the pipe may refuse a socket's
	// buffer while poll calls it writable, and a pipe that is not full sends
	// no wake-up when read): that goes through a pipe of ours, where EAGAIN
	// is unambiguous.
	if src.Kind == sys.KindPipe || (dst.Kind == sys.KindPipe && src.Kind == sys.KindFile) {
		return newDirect(dst, src, limit).run()
	}
	tp := newTwoPhase(dst, src, limit)
	if cannotBlock(src) && cannotBlock(dst) {
		tp.flags |= sys.SpliceRaw
	}
	res, err := tp.run()
	tp.free()
	return res, err
}

// cannotBlock reports whether a splice on e never sleeps: a socket or pipe
// in non-blocking mode (a file or device may wait for I/O).
func cannotBlock(e End) bool {
	return e.Nonblock && (e.Kind == sys.KindStream || e.Kind == sys.KindPipe)
}

// twoPhase moves bytes source -> pipe (fill, under the source's read lock
// only) and pipe -> destination (drain, under the destination's write lock
// only), so Close of either side wakes a blocked transfer
// (golang/go#25985).
//
// Invariants: the fill starts with an empty pipe; the drain runs until the
// pipe is empty or the transfer ends; a pipe is held only while it holds
// bytes or a fill is about to put some in: a fill that meets EAGAIN on an
// empty pipe gives the pipe back before it waits (keep false), so a
// transfer waiting for its source holds no pipe and no descriptor beyond
// its own.
type twoPhase struct {
	p        *pipe
	keep     bool // hold the pipe for the whole transfer (Tee)
	src, dst End
	remain   int64 // bytes still to take from src; sys.NoLimit: to EOF
	inPipe   int
	short    bool // the last fill was small and took less than it asked for: the source was emptied
	flags    int  // splice flags: sys.SpliceFlags, plus sys.SpliceRaw when neither end can block
	fill     sys.Loop
	drain    sys.Loop
}

func newTwoPhase(dst, src End, limit int64) *twoPhase {
	tp := twoPhases.Get().(*twoPhase)
	tp.src, tp.dst, tp.remain, tp.flags = src, dst, limit, sys.SpliceFlags
	return tp
}

// twoPhases pools the transfer states, their Loops bound once, so that a
// transfer allocates nothing of its own.
var twoPhases = sync.Pool{New: func() any {
	tp := new(twoPhase)
	tp.fill = sys.Loop{Name: "splice", Table: sys.SpliceErrors, Call: tp.fillCall, Again: tp.fillAgain}
	tp.drain = sys.Loop{Name: "splice", Table: sys.SpliceErrors, Call: tp.drainCall}
	return tp
}}

// free releases the pipe and pools tp.
func (tp *twoPhase) free() {
	tp.release()
	tp.keep, tp.src, tp.dst, tp.remain, tp.inPipe, tp.short = false, End{}, End{}, 0, 0, false
	twoPhases.Put(tp)
}

// release gives the pipe back at the end of a transfer: pooled if empty
// (FIONREAD agreeing), closed if not.
func (tp *twoPhase) release() {
	if tp.p != nil {
		put(tp.p, tp.inPipe, true)
		tp.p = nil
	}
}

func (tp *twoPhase) fillCall(sfd int) (int, error) {
	if tp.p == nil {
		p, err := get()
		if err != nil {
			return 0, err // wraps ErrUnsupported: nothing consumed, fall back
		}
		tp.p = p
	}
	want := tp.p.size - tp.inPipe
	if int64(want) > tp.remain {
		want = int(tp.remain)
	}
	k, err := sys.Splice(sfd, nil, tp.p.w, nil, want, tp.flags)
	tp.short = k > 0 && k < want && k < smallFill
	return k, err
}

// smallFill: a fill below it that emptied the source is the shape of an
// interactive exchange (a request, an answer), after which the source
// stays empty for a while; a larger one is a stream catching up, whose
// next fill usually finds more bytes.
const smallFill = 64 << 10

// fillAgain runs on the source's EAGAIN, with the pipe empty (invariant):
// give it back before waiting, or before returning to a caller that waits
// itself (End.Unwind: sys.Switch ends the fill's Loop).
func (tp *twoPhase) fillAgain() sys.Action {
	if !tp.keep && tp.p != nil {
		put(tp.p, tp.inPipe, false) // inPipe is 0 here: the invariant
		tp.p = nil
	}
	if tp.src.Unwind && !tp.keep {
		return sys.Switch
	}
	return sys.Wait
}

func (tp *twoPhase) drainCall(dfd int) (int, error) {
	return sys.Splice(tp.p.r, nil, dfd, nil, tp.inPipe, tp.flags)
}

// fillOnce splices once from the source into the empty pipe. It reports
// the bytes taken (0: EOF) or a fallback or final error.
func (tp *twoPhase) fillOnce(moved bool) (int, sys.Action, error) {
	k, act, err := tp.fill.Read(tp.src.RC, moved)
	if act == sys.Done && k > 0 {
		tp.inPipe += k
		tp.remain -= int64(k)
	}
	return k, act, err
}

// drainAll splices the pipe's bytes into the destination until it is
// empty. On a fallback errno it writes the rest with dst.W (rescue), so
// every byte taken from the source reaches the destination. It returns the
// bytes that reached the destination.
func (tp *twoPhase) drainAll() (n int64, fallback, err error) {
	for tp.inPipe > 0 {
		k, act, err := tp.drain.Write(tp.dst.RC, true)
		switch {
		case act == sys.Done && k > 0:
			tp.inPipe -= k
			n += int64(k)
			tp.dst.stepped(k)
			continue
		case act == sys.Done: // 0 from a non-empty pipe
			err = errZeroDrain
			fallthrough
		case act == sys.Fallback, act == sys.Missing:
			m, rerr := tp.rescue(err)
			return n + m, err, rerr
		default:
			return n, nil, err
		}
	}
	return n, nil, nil
}

var errZeroDrain = errors.New("splice: the destination took 0 bytes from a non-empty pipe")

// fillStep fills the empty pipe once for a transfer that has moved
// res.N bytes. end is true when the transfer ends here: at the limit, at
// EOF (res.Done), on a fallback (res.Fallback) or with err; the pipe is
// empty in every one of those cases.
func (tp *twoPhase) fillStep(res *Result) (end bool, err error) {
	if tp.remain == 0 {
		res.Done = true
		return true, nil
	}
	k, act, err := tp.fillOnce(res.N > 0)
	switch {
	case act == sys.Done && k == 0:
		res.Done = true
		return true, nil
	case act == sys.Fallback, act == sys.Missing:
		res.Fallback, res.Missing = err, act == sys.Missing
		return true, nil
	case act == sys.Switch: // fillAgain, for End.Unwind: the source is empty
		res.Waiting = true
		return true, nil
	case act != sys.Done:
		res.Failed = AtSrc
		return true, err
	}
	return false, nil
}

func (tp *twoPhase) run() (res Result, err error) {
	for {
		if end, err := tp.fillStep(&res); end {
			return res, err
		}
		n, fallback, err := tp.drainAll()
		res.N += n
		if err != nil {
			res.Failed = AtDst
			return res, err
		}
		if fallback != nil {
			res.Fallback = fallback
			return res, nil
		}
		if err := tp.dst.moved(n); err != nil {
			return res, err
		}
		if tp.short && tp.src.Unwind && !tp.keep {
			// The fill emptied the source: another one now would most
			// likely meet EAGAIN, a call the caller's wait repeats anyway
			// (sys.WaitReadable asks poll(2) first). Return to that wait
			// with the pipe, empty after the drain, given back.
			put(tp.p, 0, false)
			tp.p = nil
			res.Waiting = true
			return res, nil
		}
	}
}

// rescue reads what is left in the pipe and writes it to the destination
// with its own Write, so the count stays exact and nothing consumed is
// lost. why is the fallback that stopped the drain.
func (tp *twoPhase) rescue(why error) (n int64, err error) {
	if tp.dst.W == nil {
		return 0, why
	}
	buf := make([]byte, min(tp.inPipe, 64<<10))
	for tp.inPipe > 0 {
		k, rerr := sys.Read(tp.p.r, buf[:min(len(buf), tp.inPipe)])
		if rerr == sys.EINTR {
			continue
		}
		if rerr != nil || k <= 0 {
			return n, errors.Join(why, os.NewSyscallError("read", rerr))
		}
		tp.inPipe -= k
		w, werr := tp.dst.W.Write(buf[:k])
		n += int64(w)
		if werr != nil {
			return n, werr
		}
	}
	return n, nil
}

// direct splices between src and dst with no intermediate pipe: one of
// them is a pipe. It runs under one side's lock and reaches the other
// side's descriptor with Control. On EAGAIN a zero-timeout poll(2) of both
// tells which side is blocked (the Loops' Again hook); the transfer then
// waits on that side, re-trying the splice inside that side's callback
// first, so a wait always follows that side's own EAGAIN.
type direct struct {
	src, dst End
	remain   int64
	sfd, dfd int
	spins    int
	onSrc    sys.Loop // under the source's read lock
	onDst    sys.Loop // under the destination's write lock
	k        int      // the nested call's result (Control takes no return values)
	kerr     error
	withDst  func(uintptr)
	withSrc  func(uintptr)
}

func newDirect(dst, src End, limit int64) *direct {
	d := &direct{src: src, dst: dst, remain: limit}
	d.onSrc = sys.Loop{Name: "splice", Table: sys.SpliceErrors, Call: d.srcCall, Again: d.srcAgain}
	d.onDst = sys.Loop{Name: "splice", Table: sys.SpliceErrors, Call: d.dstCall, Again: d.dstAgain}
	d.withDst = func(fd uintptr) { d.dfd = int(fd); d.k, d.kerr = d.splice() }
	d.withSrc = func(fd uintptr) { d.sfd = int(fd); d.k, d.kerr = d.splice() }
	return d
}

func (d *direct) splice() (int, error) {
	want := sys.MaxChunk
	if d.remain < int64(want) {
		want = int(d.remain)
	}
	return sys.Splice(d.sfd, nil, d.dfd, nil, want, sys.SpliceFlags)
}

func (d *direct) srcCall(sfd int) (int, error) {
	d.sfd = sfd
	if err := d.dst.RC.Control(d.withDst); err != nil {
		return 0, err
	}
	return d.k, d.kerr
}

func (d *direct) dstCall(dfd int) (int, error) {
	d.dfd = dfd
	if err := d.src.RC.Control(d.withSrc); err != nil {
		return 0, err
	}
	return d.k, d.kerr
}

// blocked tells which side made splice say EAGAIN: here (Wait) or the
// other side (Switch). Both ready means the state changed between the two
// calls: try again; should that persist (no kernel here does it), slow
// down instead of spinning, never waiting on an edge that may not come.
func (d *direct) blocked(srcSide bool) sys.Action {
	readable, writable, err := sys.PollPair(d.sfd, d.dfd)
	switch {
	case err != nil, !readable:
		if srcSide {
			return sys.Wait
		}
		return sys.Switch
	case !writable:
		if srcSide {
			return sys.Switch
		}
		return sys.Wait
	}
	if d.spins++; d.spins > 8 {
		sys.PollPairWait(d.sfd, d.dfd, 10)
		d.spins = 0
	}
	return sys.Retry
}

func (d *direct) srcAgain() sys.Action { return d.blocked(true) }
func (d *direct) dstAgain() sys.Action { return d.blocked(false) }

func (d *direct) run() (res Result, err error) {
	waitDst := false
	for d.remain != 0 {
		var k int
		var act sys.Action
		if waitDst {
			k, act, err = d.onDst.Write(d.dst.RC, res.N > 0)
		} else {
			k, act, err = d.onSrc.Read(d.src.RC, res.N > 0)
		}
		switch act {
		case sys.Done:
			if k == 0 {
				res.Done = true // EOF: the source pipe's writers are gone, or the socket's peer shut down
				return res, nil
			}
			d.spins = 0
			res.N += int64(k)
			d.dst.stepped(k)
			d.remain -= int64(k)
			if err := d.dst.moved(int64(k)); err != nil {
				return res, err
			}
		case sys.Switch:
			waitDst = !waitDst
		case sys.Fallback, sys.Missing:
			res.Fallback, res.Missing = err, act == sys.Missing
			return res, nil
		default:
			res.Failed = AtSrc // the call waited on (direct mode cannot tell which end refused)
			if waitDst {
				res.Failed = AtDst
			}
			return res, err
		}
	}
	res.Done = true
	return res, nil
}
