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
	"time"
)

// Relayer relays bytes between two connections in both directions at once,
// the core of a TCP proxy. The zero value is ready to use and is what the
// package-level Relay uses. A Relayer holds no state between calls and is
// safe for concurrent use, provided its fields are not changed while in
// use.
type Relayer struct {
	// IdleTimeout, if positive, ends the relay when neither peer has taken
	// or given a byte for this long. Relay then returns an error for which
	// errors.Is(err, os.ErrDeadlineExceeded) holds, and both peers see a
	// reset. Bytes leaving a conn's send queue count, so a peer that keeps
	// reading slowly while a large write waits for room is not idle: on
	// Linux the conns' kernel counters are read (TCP_INFO's bytes acked and
	// received, SIOCOUTQ and SIOCINQ, on the conn or the one its NetConn
	// method returns). Elsewhere, and for conns with no descriptor, only
	// the bytes the relay's own reads and writes move count, so a write
	// that waits longer than IdleTimeout for room in a slow reader's socket
	// looks idle there. It fires between IdleTimeout and 1.25 x
	// IdleTimeout after the last byte. 0: never.
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
// error in either direction (a peer's reset among them), ctx done (an
// error for which errors.Is(err, ctx.Err()) holds, returned promptly even
// when both peers are silent) or the idle timeout (errors.Is(err,
// os.ErrDeadlineExceeded)). Clean EOF both ways returns a nil error. In
// every case Relay closes both conns before it returns, and it leaves no
// goroutine behind: the conns are Relay's from the call on. Relay owns the
// conns' deadlines while it runs: do not set them from elsewhere.
//
// A cut is a reset. A peer sees a clean end (EOF, or close_notify through
// a *tls.Conn) only when its source ended cleanly and every byte reached
// it. When Relay ends on an error instead (any errno, a peer's reset, a
// write error on TeeAToB, the idle timeout, ctx done), both streams are
// cut: Relay closes each conn with a reset (SO_LINGER 0, on the conn
// itself or the one its NetConn method returns), so that neither peer
// takes a cut stream for a complete one, as it would from a FIN. A peer
// reads the bytes that reached it, then ECONNRESET (or its write fails
// with it). A conn that cannot carry a reset (a Unix socket, a conn with
// no SetLinger anywhere) is closed as it is.
//
// The counts are the bytes each destination accepted (written into its
// socket), including bytes rescued from a pipe by a fallback, also when
// TeeAToB failed. With a clean end, the count equals what the peer
// received. After a cut, the reset drops what the destination's send queue
// still held: the peer may have received fewer.
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
		rl.aToB = rl.direction(true, b, a, r.TeeAToB)
	}()
	rl.bToA = rl.direction(false, a, b, nil)
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
	// progress grows by every byte either direction takes from its source
	// or gives to its destination, one system call at a time (a drain into
	// a slow reader counts each step), for the idle watch.
	progress atomic.Int64
	timer    *time.Timer
	lastSeen int64    // progress at the last idle check
	lastAct  activity // the conns' kernel counters at the last idle check

	mu    sync.Mutex
	ended bool
	cause error // the first error; nil for a clean end
}

// end ends the relay with cause (nil: a clean end) unless it has ended
// already: it closes both conns, which wakes a direction blocked on either.
//
// A relay that ends on an error cuts both streams: each conn is closed
// with a reset (SO_LINGER 0), so that neither peer takes a cut stream for
// a complete one. A plain Close would send a FIN, which a peer reads as a
// clean end, while bytes the relay took from the other peer may still sit
// in a pipe or a send queue.
func (rl *relay) end(cause error) {
	rl.mu.Lock()
	if rl.ended {
		rl.mu.Unlock()
		return
	}
	rl.ended, rl.cause = true, cause
	rl.mu.Unlock()
	if cause != nil {
		abort(rl.a)
		abort(rl.b)
	}
	_ = rl.a.Close()
	_ = rl.b.Close()
}

// abort closes c with a reset: SO_LINGER 0 on c, or on the conn its
// NetConn method returns (a *tls.Conn's), which is closed first: a
// *tls.Conn's own Close would send close_notify, a clean end at the TLS
// layer. A conn with no SetLinger anywhere (a Unix socket, an in-memory
// conn) cannot carry a reset: it is closed as it is.
func abort(c net.Conn) {
	for inner := c; inner != nil; {
		if l, ok := inner.(interface{ SetLinger(int) error }); ok {
			_ = l.SetLinger(0)
			_ = inner.Close()
			return
		}
		nc, ok := inner.(interface{ NetConn() net.Conn })
		if !ok {
			return
		}
		inner = nc.NetConn()
	}
}

// watch checks progress every quarter of the idle timeout. A check counts
// as quiet only when no direction took or gave a byte since the last one
// and the conns' kernel counters have not moved either (bytes leaving a
// send queue into a peer that reads slowly, while the relay's own write
// waits for room): the relay ends after IdleTimeout of quiet checks.
func (rl *relay) watch() {
	idle := rl.r.IdleTimeout
	var quiet time.Duration
	step := max(idle/4, time.Millisecond)
	rl.lastAct = sampleActivity(rl.a, rl.b)
	// Made stopped and started once rl.timer is set: the callback uses it.
	rl.timer = time.AfterFunc(time.Hour, func() {
		rl.mu.Lock()
		ended := rl.ended
		rl.mu.Unlock()
		if ended {
			return // Relay is returning: do not re-arm
		}
		seen := rl.progress.Load()
		act := sampleActivity(rl.a, rl.b)
		if seen != rl.lastSeen || act != rl.lastAct {
			rl.lastSeen, rl.lastAct, quiet = seen, act, 0
		} else if quiet += step; quiet >= idle {
			rl.end(fmt.Errorf("zerocopy: Relay: no byte in either direction for %v: %w", idle, os.ErrDeadlineExceeded))
			return
		}
		rl.timer.Reset(step)
	})
	rl.timer.Stop()
	rl.timer.Reset(step)
}

// direction moves src to dst until EOF or an error, then half-closes dst
// (EOF) or ends the relay (error). It returns the bytes dst accepted.
func (rl *relay) direction(aToB bool, dst, src net.Conn, side io.Writer) int64 {
	var t tally
	n, err := relaySplice(dst, src, side, &rl.progress, &t)
	if err == nil && !t.ended {
		var m int64
		m, err = rl.buffered(dst, src, side, &t)
		n += m
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

// buffered copies src to dst (and side, if set) through a pooled buffer
// until EOF or an error. It returns the bytes dst accepted: a failing side
// (TeeAToB) ends the copy with its error, but the count stays dst's.
func (rl *relay) buffered(dst io.Writer, src io.Reader, side io.Writer, t *tally) (written int64, err error) {
	bp := getBuffer(rl.r.bufferSize())
	defer putBuffer(bp)
	buf := *bp
	defer func() { t.add(MethodBuffered, written) }()
	for {
		nr, er := src.Read(buf)
		if nr > 0 {
			rl.progress.Add(int64(nr))
			nw, ew := dst.Write(buf[:nr])
			if nw < 0 || nw > nr {
				nw = 0
				if ew == nil {
					ew = errInvalidWrite
				}
			}
			written += int64(nw)
			rl.progress.Add(int64(nw))
			if ew == nil && nw != nr {
				ew = io.ErrShortWrite
			}
			if ew != nil {
				return written, ew
			}
			if side != nil {
				if _, ew := side.Write(buf[:nr]); ew != nil {
					return written, fmt.Errorf("zerocopy: Relay: TeeAToB: %w", ew)
				}
			}
		}
		if er == io.EOF {
			return written, nil
		}
		if er != nil {
			return written, er
		}
	}
}

// bufferSize is the buffer of a direction that cannot splice.
func (r *Relayer) bufferSize() int {
	if r.BufferSize > 0 {
		return r.BufferSize
	}
	return defaultStreamBuffer
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
