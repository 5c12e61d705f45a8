package sys

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// Loop runs one system call on the descriptor behind a syscall.RawConn
// under the protocol every fast path of the module shares. It is the only
// place that retries, waits, classifies and wraps:
//
//   - EINTR: the call is made again.
//   - EAGAIN: the Loop waits until the descriptor is ready and calls again.
//     The wait follows that descriptor's own EAGAIN inside the same RawConn
//     callback, as the edge-triggered netpoller needs (a wait that did not
//     follow an EAGAIN could sleep through an edge that already passed).
//   - any other errno: the call's Table says Fallback or Fatal, and the
//     error is wrapped as os.NewSyscallError(Name, errno).
//
// Waiting goes through the netpoller, which honours deadlines and Close.
// A descriptor the netpoller does not watch (a regular file; a descriptor
// adopted by os.NewFile while blocking and made non-blocking later by
// someone else: golang/go#75304) is waited on with poll(2) instead, so it
// never busy-loops. Which one it is shows when the netpoller is asked to
// wait: internal/poll's RawRead and RawWrite fail a wait with a closed
// descriptor (os.ErrClosed, net.ErrClosed), an expired deadline
// (os.ErrDeadlineExceeded) or a descriptor it cannot wait on; the Loop
// takes the third case from that list by exclusion rather than by the
// error's text, which differs between Go releases. poll(2) says a regular
// file is always ready: one that keeps answering EAGAIN gets EAGAIN as a
// final error, as a plain write would give it (io.Copy fails at once).
//
// A Loop is set up once and reused: its owners bind Call once (a method
// value), so that Read and Write allocate nothing.
type Loop struct {
	Name  string                    // the call's name, for errors
	Table Table                     // the call's errno meanings
	Call  func(fd int) (int, error) // one call on fd
	// Again, if set, says what an EAGAIN means for a call that involves a
	// second descriptor (a direct splice between two of them): Wait for
	// this one, Switch to waiting on the other, or Retry.
	Again func() Action

	write    bool
	moved    bool
	n        int
	act      Action
	err      error
	asked    bool // the callback asked the netpoller to wait
	selfPoll bool // waiting with poll(2): the netpoller cannot
	stale    int  // EAGAINs in a row right after poll(2) said ready
	fn       func(uintptr) bool
}

// Read makes the call under rc's read lock, waiting for readability, and
// returns the count of the first call that succeeded, with Done. Fallback
// and Fatal come with the wrapped errno; Switch with a nil error. A
// netpoller error (deadline, Close) comes back unchanged, with Fatal.
// moved is handed to the Table.
func (l *Loop) Read(rc syscall.RawConn, moved bool) (int, Action, error) {
	return l.run(rc, false, moved)
}

// Write is Read under rc's write lock, waiting for writability.
func (l *Loop) Write(rc syscall.RawConn, moved bool) (int, Action, error) {
	return l.run(rc, true, moved)
}

func (l *Loop) run(rc syscall.RawConn, write, moved bool) (int, Action, error) {
	if l.fn == nil {
		l.fn = l.step
	}
	l.write, l.moved, l.selfPoll, l.stale = write, moved, false, 0
	l.n, l.act, l.err = 0, Fatal, nil
	for {
		l.asked = false
		var err error
		if write {
			err = rc.Write(l.fn)
		} else {
			err = rc.Read(l.fn)
		}
		switch {
		case err == nil:
			return l.n, l.act, l.err
		case !l.asked || l.selfPoll || !notPollable(err):
			return 0, Fatal, l.named(err)
		}
		l.selfPoll = true // call again, waiting in poll(2) from now on
	}
}

// named gives a netpoller error (a deadline, a closed descriptor) the
// call's name instead of the RawConn method's: net's conns say
// "raw-read tcp A->B: i/o timeout", where the operation was splice or
// sendfile. The error it wraps is unchanged, so errors.Is holds.
func (l *Loop) named(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && (oe.Op == "raw-read" || oe.Op == "raw-write") {
		named := *oe
		named.Op = l.Name
		return &named
	}
	var pe *os.PathError
	if errors.As(err, &pe) && (pe.Op == "raw-read" || pe.Op == "raw-write") {
		named := *pe
		named.Op = l.Name
		return &named
	}
	return err
}

// staleLimit bounds EAGAINs right after poll(2) said "ready" before the
// Loop asks whether the descriptor is a regular file (which poll always
// calls ready) or slows down.
const staleLimit = 8

func (l *Loop) step(fd uintptr) bool {
	for {
		n, err := l.Call(int(fd))
		if err == nil {
			l.n, l.act, l.err = n, Done, nil
			return true
		}
		act, werr := Try(l.Name, l.Table, l.moved, err)
		if act == Wait && l.Again != nil {
			act = l.Again()
		}
		switch act {
		case Retry:
			continue
		case Switch:
			l.act, l.err = Switch, nil
			return true
		case Wait:
			if !l.selfPoll {
				l.asked = true
				return false
			}
			if l.stale++; l.stale > staleLimit {
				if st, serr := Fstat(int(fd)); serr == nil && st.Kind == KindFile {
					l.act, l.err = Fatal, os.NewSyscallError(l.Name, err)
					return true
				}
				time.Sleep(time.Millisecond) // never spin on an edge that does not come
			}
			if perr := pollWait(int(fd), l.write, -1); perr != nil {
				l.act, l.err = Fatal, os.NewSyscallError("poll", perr)
				return true
			}
			continue
		}
		l.act, l.err = act, werr
		return true
	}
}

// Try gives the meaning of err, the error of one call named name, by the
// call's table: Retry (EINTR), Wait (EAGAIN), or Fallback or Fatal with the
// errno wrapped as os.NewSyscallError(name, errno). An error that is not an
// errno (the call could not be made: no pipe to be had, a descriptor
// closed under it) is returned as is: Fallback when it wraps
// ErrUnsupported (nothing was consumed), Fatal otherwise.
func Try(name string, table Table, moved bool, err error) (Action, error) {
	errno, ok := err.(syscall.Errno)
	if !ok {
		if errors.Is(err, ErrUnsupported) {
			return Fallback, err
		}
		return Fatal, err
	}
	act := table(errno, moved)
	if act == Retry || act == Wait {
		return act, nil
	}
	return act, os.NewSyscallError(name, errno)
}

// notPollable reports whether a failed netpoller wait means "this
// descriptor cannot be waited on": every other answer of RawRead and
// RawWrite is a closed descriptor or an expired deadline.
func notPollable(err error) bool {
	return !errors.Is(err, os.ErrDeadlineExceeded) &&
		!errors.Is(err, os.ErrClosed) &&
		!errors.Is(err, net.ErrClosed)
}
