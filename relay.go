package zerocopy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Relayer relays bytes between two connections in both directions at once,
// the core of a TCP proxy. The zero value is ready to use and is what the
// package-level Relay uses. A Relayer holds no state between calls and is
// safe for concurrent use, provided its fields are not changed while in
// use.
type Relayer struct {
	// IdleTimeout, if positive, ends the relay when no byte has moved in
	// either direction for this long. Relay then returns an error for which
	// errors.Is(err, os.ErrDeadlineExceeded) holds. It fires between
	// IdleTimeout and 1.25 x IdleTimeout after the last byte. 0: never.
	IdleTimeout time.Duration

	// BufferSize is the buffer of a direction that cannot splice (a
	// *tls.Conn, a conn without a descriptor). 0 picks Copier's default for
	// streams, 256 KiB. A splicing direction holds no buffer.
	BufferSize int

	// Observe, if set, is called once per direction when that direction
	// ends, with what it moved and how. It runs on the direction's
	// goroutine and must not block.
	Observe func(Report)

	// ObserveDirection, if set, is called like Observe and says which
	// direction ended: aToB is true for a -> b.
	ObserveDirection func(aToB bool, r Report)

	// TeeAToB, if set, also receives every byte relayed from a to b: a
	// recording of a client's stream, say. Where it and both conns have
	// descriptors (a regular file, a pipe, a socket), the bytes are
	// duplicated inside the kernel with tee(2) and never copied into user
	// memory; otherwise they are written to it from the buffer. The count
	// Relay returns is b's; a write error on TeeAToB ends the relay with
	// that error. Relay does not close it.
	TeeAToB io.Writer
}

// Relay relays between a and b until both directions have ended, as a
// zero Relayer does. See Relayer.Relay.
func Relay(ctx context.Context, a, b net.Conn) (aToB, bToA int64, err error) {
	var r Relayer
	return r.Relay(ctx, a, b)
}

// Relay copies a to b and b to a at once and returns the bytes each
// direction delivered.
//
// Each direction takes Copy's fast path where both conns have descriptors
// (any net.Conn implementing syscall.Conn, wrappers included): splice(2)
// through a pooled pipe, taken only while bytes are on their way, so an
// idle relay holds no pipe and no descriptor beyond the two conns. Other
// conns (*tls.Conn, in-memory conns) are relayed through a buffer.
//
// Half-close: when a direction reads EOF from its source, Relay calls
// CloseWrite on its destination if it has one (*net.TCPConn,
// *net.UnixConn, *tls.Conn do), or on the conn its NetConn method returns
// (a wrapper's), and the other direction goes on until its own EOF. A destination without CloseWrite learns of the EOF only when
// Relay ends and closes it.
//
// Relay returns when both directions have ended, or at the first of: an
// error in either direction (a peer's reset is returned as is, and passed
// on: the other conn is closed with a reset too), ctx done
// (an error for which errors.Is(err, ctx.Err()) holds, returned promptly
// even when both peers are silent) or the idle timeout (errors.Is(err,
// os.ErrDeadlineExceeded)). Clean EOF both ways returns a nil error. In
// every case Relay closes both conns before it returns, and it leaves no
// goroutine behind: the conns are Relay's from the call on. Relay owns the
// conns' deadlines while it runs: do not set them from elsewhere.
//
// The counts are the bytes each destination accepted (written into its
// socket), including bytes rescued from a pipe by a fallback. When Relay
// closes a conn whose peer is still sending (cancellation, idle timeout,
// an error on the other side), the kernel may answer that peer with a
// reset and drop bytes it had accepted but the peer had not yet read: the
// count can then exceed what the peer received. With a clean end, the
// count equals what the peer received.
func (r *Relayer) Relay(ctx context.Context, a, b net.Conn) (aToB, bToA int64, err error) {
	if a == nil || b == nil {
		if a != nil {
			_ = a.Close()
		}
		if b != nil {
			_ = b.Close()
		}
		return 0, 0, errors.New("zerocopy: Relay: nil net.Conn")
	}
	rl := &relay{r: r, a: a, b: b}
	if err := ctx.Err(); err != nil {
		rl.end(fmt.Errorf("zerocopy: Relay: %w", context.Cause(ctx)))
		return 0, 0, rl.cause
	}
	stop := context.AfterFunc(ctx, func() { rl.end(fmt.Errorf("zerocopy: Relay: %w", context.Cause(ctx))) })
	defer stop()
	if r.IdleTimeout > 0 {
		rl.watch()
		defer rl.timer.Stop()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rl.aToB = rl.direction(true, b, a, r.TeeAToB, &rl.movedAB)
	}()
	rl.bToA = rl.direction(false, a, b, nil, &rl.movedBA)
	<-done
	rl.end(nil)
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.aToB, rl.bToA, rl.cause
}

type relay struct {
	r          *Relayer
	a, b       net.Conn
	aToB, bToA int64
	movedAB    atomic.Int64 // bytes delivered so far, for the idle watch
	movedBA    atomic.Int64
	timer      *time.Timer
	lastSeen   int64 // movedAB+movedBA at the last idle check

	mu    sync.Mutex
	ended bool
	cause error // the first error; nil for a clean end
}

// end ends the relay with cause (nil: a clean end) unless it has ended
// already: it closes both conns, which wakes a direction blocked on either.
func (rl *relay) end(cause error) {
	rl.mu.Lock()
	if rl.ended {
		rl.mu.Unlock()
		return
	}
	rl.ended, rl.cause = true, cause
	rl.mu.Unlock()
	if errors.Is(cause, syscall.ECONNRESET) {
		// A peer reset its conn: pass the reset on, so the other peer
		// never takes a cut stream for a complete one (a plain Close would
		// send it a FIN, a clean end).
		abort(rl.a)
		abort(rl.b)
	}
	_ = rl.a.Close()
	_ = rl.b.Close()
}

// abort makes c's Close send a reset (SO_LINGER 0), where c or the conn
// its NetConn method returns has SetLinger.
func abort(c net.Conn) {
	for c != nil {
		if l, ok := c.(interface{ SetLinger(int) error }); ok {
			_ = l.SetLinger(0)
			return
		}
		nc, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return
		}
		c = nc.NetConn()
	}
}

// watch checks progress every quarter of the idle timeout.
func (rl *relay) watch() {
	idle := rl.r.IdleTimeout
	var quiet time.Duration
	step := max(idle/4, time.Millisecond)
	// Made stopped and started once rl.timer is set: the callback uses it.
	rl.timer = time.AfterFunc(time.Hour, func() {
		rl.mu.Lock()
		ended := rl.ended
		rl.mu.Unlock()
		if ended {
			return // Relay is returning: do not re-arm
		}
		seen := rl.movedAB.Load() + rl.movedBA.Load()
		if seen != rl.lastSeen {
			rl.lastSeen, quiet = seen, 0
		} else if quiet += step; quiet >= idle {
			rl.end(fmt.Errorf("zerocopy: Relay: no byte in either direction for %v: %w", idle, os.ErrDeadlineExceeded))
			return
		}
		rl.timer.Reset(step)
	})
	rl.timer.Stop()
	rl.timer.Reset(step)
}

// bufferSize is the buffer of a direction that cannot splice.
func (r *Relayer) bufferSize() int {
	if r.BufferSize > 0 {
		return r.BufferSize
	}
	return defaultStreamBuffer
}

// direction moves src to dst until EOF or an error, then half-closes dst
// (EOF) or ends the relay (error). It returns the bytes dst accepted.
func (rl *relay) direction(aToB bool, dst, src net.Conn, side io.Writer, moved *atomic.Int64) int64 {
	var t tally
	n, err := relaySplice(dst, src, side, moved, &t)
	if err == nil && !t.ended {
		var w io.Writer = &countingWriter{w: dst, n: moved}
		if side != nil {
			w = io.MultiWriter(w, side)
		}
		bp := getBuffer(rl.r.bufferSize())
		m, berr := copyBuffer(w, src, *bp, nil)
		putBuffer(bp)
		t.add(MethodBuffered, m)
		n, err = n+m, berr
	}
	if rl.r.Observe != nil || rl.r.ObserveDirection != nil {
		rep := t.report()
		if rl.r.Observe != nil {
			rl.r.Observe(rep)
		}
		if rl.r.ObserveDirection != nil {
			rl.r.ObserveDirection(aToB, rep)
		}
	}
	if err != nil {
		rl.end(err)
		return n
	}
	closeWrite(dst)
	return n
}

// closeWrite shuts down c's write side where it has one: *net.TCPConn,
// *net.UnixConn, *tls.Conn, and wrappers that pass CloseWrite on or hand
// out the conn they wrap with NetConn (as *tls.Conn and many listener
// wrappers do). Errors here mean the relay is ending anyway.
func closeWrite(c net.Conn) {
	for c != nil {
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
			return
		}
		nc, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return
		}
		c = nc.NetConn()
	}
}

// countingWriter advances n by every byte w accepts.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n.Add(int64(k))
	return k, err
}
