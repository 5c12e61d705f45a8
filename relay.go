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
	// looks idle there. What no counter shows: a peer reading slowly from
	// its own full receive buffer announces the room it makes only when
	// its window has grown by a large part (Linux: a window update once it
	// can double), so while it drains that buffer nothing reaches the
	// relay's side: set IdleTimeout above the time a peer needs to drain
	// its receive buffer (megabytes, with autotuning). It fires between
	// IdleTimeout and 1.25 x IdleTimeout after the last byte. It uses a timer of its own, never
	// the conns' deadlines. 0: never.
	IdleTimeout time.Duration

	// BufferSize is the buffer a direction that cannot splice (a
	// *tls.Conn, a conn without a descriptor) reads into while bytes
	// stream: taken from a pool when a read fills the small buffer the
	// direction waits with (8 KiB), given back when a read comes back
	// short. 0 picks 64 KiB. A splicing direction holds no buffer at all.
	BufferSize int

	// CloseOnEOF makes the first EOF end the whole relay, as SSH port
	// forwards and some tunnels want, instead of a half-close. The EOF is
	// passed on (CloseWrite), the other direction stops reading (its
	// source is closed), delivers what it had already taken, and Relay
	// returns nil.
	CloseOnEOF bool

	// NoResets makes Relay close both conns plainly (a FIN) however it
	// ends, as a hand-written io.Copy relay does, instead of passing a cut
	// on as a reset (see Relay). A peer may then take a cut stream for a
	// complete one.
	NoResets bool

	// Observe, if set, is called once per direction when that direction
	// ends, with what it moved, how, and why it ended. It runs on the
	// direction's goroutine and must not block.
	Observe func(RelayReport)

	// TeeAToB, if set, also receives every byte relayed from a to b: a
	// recording of a client's stream, say. Where it and both conns have
	// descriptors (a regular file, a pipe, a socket), the bytes are
	// duplicated inside the kernel with tee(2) and never copied into user
	// memory; otherwise they are written to it from the buffer. The count
	// Relay returns is b's; a write error on TeeAToB ends the relay with
	// that error (a cut). Relay does not close it.
	TeeAToB io.Writer
}

// RelayReport describes one direction of a relay when it ends: the bytes
// its destination accepted and how they moved (Report), which direction,
// and why it ended. Relayer.Observe receives one per direction.
type RelayReport struct {
	// AToB is true for the direction from a to b, false for b to a.
	AToB bool

	// Report: Bytes the destination accepted, the Method that moved most
	// of them (a direction that moved nothing names the path it was on),
	// and Fallback: why splice was not used or was left. A conn that
	// cannot splice is named with its type, "conn b (*tls.Conn): no
	// descriptor".
	Report

	// Err is why this direction ended: nil when its source reached EOF;
	// otherwise its source's error (a *net.OpError with Op "read"), its
	// destination's (Op "write"), TeeAToB's, or, for a direction still
	// running when the relay ended for another reason, that reason (the
	// other direction's error, ctx, the idle timeout; nil after
	// CloseOnEOF).
	Err error

	// HalfClose, after an EOF, is why it could not be passed on: the
	// destination has no CloseWrite, directly or through a NetConn method,
	// so its peer learns of the EOF only when the relay ends and closes
	// the conn. nil when it was passed on.
	HalfClose error
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
// conns (*tls.Conn, in-memory conns) are relayed through a buffer that a
// waiting direction gives back (see BufferSize).
//
// Bytes already read. A conn made by WithReader (the bytes a parser such
// as a *bufio.Reader took from the conn, then the conn) relays its bytes
// first, exactly once, then splices the rest from the conn beneath. This is
// how to keep splice with a wrapper: a type that embeds a net.Conn and
// adds peeked bytes (a sniffing or SNI-routing conn) hides the descriptor,
// so its direction runs buffered (the RelayReport names the type); pass
// the conn it wraps, and its peeked bytes through WithReader, instead.
//
// Half-close: when a direction reads EOF from its source, Relay calls
// CloseWrite on its destination if it has one (*net.TCPConn,
// *net.UnixConn, *tls.Conn, a WithReader conn over one of those do), or
// on the conn its NetConn method returns (a wrapper's), and the other
// direction goes on until its own EOF. A destination without CloseWrite
// cannot pass the EOF on: its peer learns of it only when Relay ends and
// closes the conn, and RelayReport.HalfClose says so. Where a protocol
// needs the end of one direction to end both, set CloseOnEOF.
//
// Relay returns when both directions have ended, or at the first of: an
// error in either direction (a peer's reset among them), ctx done (an
// error for which errors.Is(err, ctx.Err()) holds, returned promptly even
// when both peers are silent), the idle timeout (errors.Is(err,
// os.ErrDeadlineExceeded)), or a deadline the caller set on either conn
// (SetDeadline(time.Now()), the way io.Copy relays are stopped: errors.Is(err,
// os.ErrDeadlineExceeded)). Relay never sets the conns' deadlines itself.
// Clean EOF both ways returns a nil error. An error from a conn is a
// *net.OpError naming the operation ("read" on the source, "write" on the
// destination; the system call, splice or read or write, in its Err) and
// the conn's addresses, wrapping the errno: errors.Is(err,
// syscall.ECONNRESET) holds for a peer's reset. RelayReport.Err says
// which direction failed. In every case Relay closes both conns before it
// returns, and it leaves no goroutine behind: the conns are Relay's from
// the call on.
//
// The context. Relay runs until ctx is done, so pass one that lives as
// long as the connection may: a server's own context, say. In an HTTP
// handler that hijacks its connection (a CONNECT proxy, a WebSocket
// tunnel), r.Context() is the wrong one: net/http cancels it as soon as
// ServeHTTP returns, which after Hijack is at once, so every tunnel would
// end at its start. Use context.WithoutCancel(r.Context()) (keeping its
// values) joined to the server's shutdown, as the Example shows.
//
// A cut is a reset. A peer sees a clean end (EOF, or close_notify through
// a *tls.Conn) only when its source ended cleanly and every byte reached
// it. When Relay ends on an error instead (any errno, a peer's reset, a
// write error on TeeAToB, the idle timeout, ctx done, a caller's
// deadline), both streams are cut: Relay closes each conn with a reset
// (SO_LINGER 0, on the conn itself or the one its NetConn method returns),
// so that neither peer takes a cut stream for a complete one, as it would
// from a FIN. A peer reads the bytes that reached it, then ECONNRESET (or
// its write fails with it). A conn that cannot carry a reset (a Unix
// socket, a conn with no SetLinger anywhere) is closed as it is.
// NoResets turns this off.
//
// The counts are the bytes each destination accepted (written into its
// socket), the bytes WithReader held included, and bytes rescued from a
// pipe by a fallback, also when TeeAToB failed. With a clean end, the
// count equals what the peer received. After a cut, the reset drops what
// the destination's send queue still held: the peer may have received
// fewer.
func (r *Relayer) Relay(ctx context.Context, a, b net.Conn) (aToB, bToA int64, err error) {
	if a == nil || b == nil || ctx == nil {
		if a != nil {
			_ = a.Close()
		}
		if b != nil {
			_ = b.Close()
		}
		if ctx == nil {
			return 0, 0, errors.New("zerocopy: Relay: nil Context")
		}
		return 0, 0, errors.New("zerocopy: Relay: nil net.Conn")
	}
	rl := newRelay(r, a, b)
	if err := ctx.Err(); err != nil {
		rl.end(fmt.Errorf("zerocopy: Relay: %w", context.Cause(ctx)))
		return 0, 0, rl.cause
	}
	stop := func() bool { return false }
	if ctx.Done() != nil { // context.Background() and the like are never done
		stop = context.AfterFunc(ctx, func() { rl.end(fmt.Errorf("zerocopy: Relay: %w", context.Cause(ctx))) })
	}
	rl.run()
	stop()
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.aToB, rl.bToA, rl.cause
}

func newRelay(r *Relayer, a, b net.Conn) *relay {
	rl := &relay{r: r}
	rl.done.Add(1)
	rl.a, rl.dirs[0].e.prefix = splitPrefix(a)
	rl.b, rl.dirs[1].e.prefix = splitPrefix(b)
	return rl
}

// run runs both directions, b -> a on the caller's goroutine, until both
// have ended. Its frame and the ones below it are on the stack while a
// direction waits: they are kept small (see direction).
//
//go:noinline
func (rl *relay) run() {
	if rl.r.IdleTimeout > 0 {
		rl.watch()
	}
	go rl.relayAToB()
	rl.bToA = rl.direction(false)
	rl.done.Wait()
	rl.end(nil)
	if rl.timer != nil {
		rl.timer.Stop()
	}
}

// relayAToB is the a -> b direction's goroutine.
func (rl *relay) relayAToB() {
	rl.aToB = rl.direction(true)
	rl.done.Done()
}

type relay struct {
	r          *Relayer
	a, b       net.Conn // beneath WithReader: the conns Relay closes
	aToB, bToA int64
	// progress grows by every byte either direction takes from its source
	// or gives to its destination, one system call at a time (a drain into
	// a slow reader counts each step), for the idle watch.
	progress atomic.Int64
	timer    *time.Timer // the idle watch's
	// stopped[0] (a -> b), stopped[1] (b -> a): the direction's source was
	// closed on purpose (CloseOnEOF); its read error is a clean end.
	stopped [2]atomic.Bool
	dirs    [2]dirState    // a -> b, b -> a
	done    sync.WaitGroup // done when a -> b has ended

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
	if cause != nil && !rl.r.NoResets {
		abort(rl.a)
		abort(rl.b)
	}
	_ = rl.a.Close()
	_ = rl.b.Close()
}

// endedBy reports whether the relay has ended, and why.
func (rl *relay) endedBy() (bool, error) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.ended, rl.cause
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
	var lastSeen int64                    // progress at the last check
	lastAct := sampleActivity(rl.a, rl.b) // the conns' kernel counters at the last check
	// Made stopped and started once rl.timer is set: the callback uses it.
	rl.timer = time.AfterFunc(time.Hour, func() {
		if ended, _ := rl.endedBy(); ended {
			return // Relay is returning: do not re-arm
		}
		seen := rl.progress.Load()
		act := sampleActivity(rl.a, rl.b)
		if seen != lastSeen || act != lastAct {
			lastSeen, lastAct, quiet = seen, act, 0
		} else if quiet += step; quiet >= idle {
			rl.end(fmt.Errorf("zerocopy: Relay: no byte in either direction for %v: %w", idle, os.ErrDeadlineExceeded))
			return
		}
		rl.timer.Reset(step)
	})
	rl.timer.Stop()
	rl.timer.Reset(step)
}

// relayEnd is one direction's view of the relay: where it reads, where it
// writes, and the names its reports and errors use.
type relayEnd struct {
	src, dst net.Conn
	prefix   []io.Reader // bytes WithReader held for src, outermost first
	side     io.Writer   // TeeAToB, a -> b only
	aToB     bool
}

// srcName and dstName are the conns' names in reports: "a", "b".
func (e *relayEnd) srcName() string {
	if e.aToB {
		return "a"
	}
	return "b"
}

func (e *relayEnd) dstName() string {
	if e.aToB {
		return "b"
	}
	return "a"
}

//go:noinline
func (rl *relay) setEnds(e *relayEnd, aToB bool) {
	if aToB {
		e.src, e.dst, e.side, e.aToB = rl.a, rl.b, rl.r.TeeAToB, true
		return
	}
	e.src, e.dst = rl.b, rl.a
}

// direction moves its source to its destination until EOF or an error,
// then half-closes the destination (EOF) or ends the relay (error). It
// returns the bytes the destination accepted. Its state is in rl (on the
// heap) and the frames on the way to a wait are small: an idle relay's
// goroutines hold small stacks (BENCHMARKS.md, "Relay: idle memory").
func (rl *relay) direction(aToB bool) int64 {
	idx := 1
	if aToB {
		idx = 0
	}
	d := &rl.dirs[idx]
	rl.setEnds(&d.e, aToB)
	n, err := d.move(rl)
	return d.finish(rl, aToB, n, err)
}

// setEnds, move and finish are not inlined into direction: their locals
// would widen its frame, which is on the stack while the direction waits.

// dirState is one direction's state, part of the relay's one allocation.
type dirState struct {
	e    relayEnd
	t    tally
	sp   spliceState // relay_linux.go
	path Method      // the path the direction ended on
}

// move runs the direction's paths: the prefix, splice, the buffered copy.
//
//go:noinline
func (d *dirState) move(rl *relay) (n int64, err error) {
	n, err = rl.writePrefix(&d.e, &d.t)
	if err != nil {
		return n, err
	}
	m, spliced, err := relaySplice(d, &rl.progress)
	n += m
	if spliced {
		d.path = MethodSplice
	}
	if err == nil && !d.t.ended {
		d.path = MethodBuffered
		m, err = rl.buffered(&d.e, &d.t)
		n += m
	}
	return n, err
}

// finish ends the direction: the half-close or the relay's end, then the
// report.
//
//go:noinline
func (d *dirState) finish(rl *relay, aToB bool, n int64, err error) int64 {
	rep := RelayReport{AToB: aToB}
	idx := 1
	if aToB {
		idx = 0
	}
	if err != nil && rl.stopped[idx].Load() && errors.Is(err, net.ErrClosed) {
		err = nil // CloseOnEOF closed this direction's source: a clean end
	}
	if err != nil {
		if ended, cause := rl.endedBy(); ended && errors.Is(err, net.ErrClosed) {
			rep.Err = cause // woken by the relay's end, not a failure of its own
		} else {
			rep.Err = err
			rl.end(err)
		}
	} else if !closeWrite(d.e.dst) {
		rep.HalfClose = fmt.Errorf("zerocopy: Relay: conn %s (%T): no CloseWrite, directly or through NetConn: its peer sees the EOF only when the relay ends: %w", d.e.dstName(), d.e.dst, ErrUnsupported)
	}
	if err == nil && rl.r.CloseOnEOF {
		// Stop the other direction: it reads from this one's destination.
		// It delivers what it has taken, then ends cleanly.
		rl.stopped[1-idx].Store(true)
		_ = d.e.dst.Close()
	}
	if rl.r.Observe != nil {
		rep.Report = d.t.report()
		if rep.Bytes == 0 {
			rep.Method = d.path // nothing moved: the path it was on, ready to
		}
		rl.r.Observe(rep)
	}
	return n
}

// writePrefix writes the bytes WithReader held for the source (outermost
// first) to the destination and TeeAToB, exactly once.
func (rl *relay) writePrefix(e *relayEnd, t *tally) (written int64, err error) {
	if len(e.prefix) == 0 {
		return 0, nil
	}
	defer func() { t.add(MethodBuffered, written) }()
	w := relayWriter{rl: rl, e: e}
	for _, r := range e.prefix {
		n, err := drainPrefix(&w, r)
		written += n
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// relayWriter writes to a direction's destination, then to TeeAToB, with
// the relay's errors: a *net.OpError for the destination, TeeAToB named.
// Its count is the destination's.
type relayWriter struct {
	rl *relay
	e  *relayEnd
}

func (w *relayWriter) Write(p []byte) (int, error) {
	n, err := w.e.dst.Write(p)
	if n < 0 || n > len(p) {
		n, err = 0, errInvalidWrite
	}
	w.rl.progress.Add(int64(n))
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return n, connError("write", w.e.dst, err)
	}
	if w.e.side != nil {
		if _, err := w.e.side.Write(p); err != nil {
			return n, fmt.Errorf("zerocopy: Relay: TeeAToB: %w", err)
		}
	}
	return n, nil
}

// relaySmallBuffer is what a direction that cannot splice reads into while
// it waits: a read that fills it takes a BufferSize buffer from the pool
// for the stream, and a read that comes back shorter gives it back.
const relaySmallBuffer = 8 << 10

// defaultRelayBuffer is the streaming buffer of a direction that cannot
// splice (BENCHMARKS.md, "Relay: idle memory").
const defaultRelayBuffer = 64 << 10

// bufferSize is the streaming buffer of a direction that cannot splice.
func (r *Relayer) bufferSize() int {
	if r.BufferSize > 0 {
		return r.BufferSize
	}
	return defaultRelayBuffer
}

// buffered copies the source to the destination (and TeeAToB) until EOF or
// an error. A waiting direction holds only its small buffer: a read that
// fills it takes a pooled BufferSize buffer for the stream, and a read
// that comes back shorter than the small buffer gives it back. It returns
// the bytes the destination accepted: a failing TeeAToB ends the copy with
// its error, but the count stays the destination's.
func (rl *relay) buffered(e *relayEnd, t *tally) (written int64, err error) {
	size := rl.r.bufferSize()
	small := make([]byte, min(size, relaySmallBuffer))
	var big *[]byte
	defer func() {
		if big != nil {
			putBuffer(big)
		}
		t.add(MethodBuffered, written)
	}()
	w := relayWriter{rl: rl, e: e}
	for {
		buf := small
		if big != nil {
			buf = *big
		}
		nr, er := e.src.Read(buf)
		if nr > 0 {
			rl.progress.Add(int64(nr))
			nw, ew := w.Write(buf[:nr])
			written += int64(nw)
			if ew != nil {
				return written, ew
			}
		}
		if er == io.EOF {
			return written, nil
		}
		if er != nil {
			return written, connError("read", e.src, er)
		}
		switch {
		case big == nil && nr == len(small) && size > len(small):
			big = getBuffer(size)
		case big != nil && nr < len(small):
			putBuffer(big)
			big = nil
		}
	}
}

// connError gives err, from an op ("read" or "write") on c, the shape Go's
// networking code handles: a *net.OpError naming the operation, the
// network and c's addresses, wrapping the cause (a splice's
// *os.SyscallError, say). A *net.OpError keeps its own fields but the
// operation's name (a failed wait comes back named after the call,
// "splice").
func connError(op string, c net.Conn, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		if oe.Op != op {
			cp := *oe
			cp.Op = op
			return &cp
		}
		return err
	}
	oe := &net.OpError{Op: op, Err: err}
	if la := c.LocalAddr(); la != nil {
		oe.Net, oe.Source = la.Network(), la
	}
	oe.Addr = c.RemoteAddr()
	return oe
}

// closeWrite shuts down c's write side where it has one: *net.TCPConn,
// *net.UnixConn, *tls.Conn, and wrappers that pass CloseWrite on or hand
// out the conn they wrap with NetConn (as *tls.Conn and many listener
// wrappers do). It reports false when c has none. Errors here mean the
// relay is ending anyway.
func closeWrite(c net.Conn) bool {
	for c != nil {
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
			return true
		}
		nc, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return false
		}
		c = nc.NetConn()
	}
	return false
}
