package sys

import (
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The raw system calls. Tests replace them (through internal/testutil) to
// inject errno values, short transfers and (0, nil) results; production
// code never reassigns them. They are read without locks, so a test that
// swaps one must not run in parallel with transfers.
//
// Each has one signature on every architecture: counts are int (every call
// moves at most MaxChunk bytes, which fits in 32 bits), where x/sys returns
// int64 on some architectures and int on others (unix.Splice: int64 on
// amd64, int on 386 and arm; the stdlib normalises it the same way in
// internal/poll/splice_linux.go).
var (
	CopyFileRange  = unix.CopyFileRange // (rfd, roff, wfd, woff, len, flags) (int, error)
	Sendfile       = unix.Sendfile      // (outfd, infd, offset, count) (int, error)
	Splice         = splice             // (rfd, roff, wfd, woff, len, flags) (int, error)
	Tee            = tee                // (rfd, wfd, len, flags) (int, error)
	Vmsplice       = unix.Vmsplice      // (fd, iovs, flags) (int, error)
	Pipe2          = unix.Pipe2         // (p, flags) error
	Close          = unix.Close
	Read           = unix.Read
	Seek           = unix.Seek
	Fstat          = fstat // (fd) (Stat, error): normalised, see Stat
	FcntlInt       = unix.FcntlInt
	IoctlGetUint32 = unix.IoctlGetUint32 // (fd, req) (uint32, error): for ioctls that write a C int
	GetsockoptInt  = unix.GetsockoptInt
	TCPInfo        = unix.GetsockoptTCPInfo // (fd, level, opt) (*unix.TCPInfo, error)
	Poll           = unix.Poll
)

func splice(rfd int, roff *int64, wfd int, woff *int64, n int, flags int) (int, error) {
	if flags&SpliceRaw != 0 {
		// The caller vouches that neither end can block (see SpliceRaw). A
		// raw call skips entersyscall/exitsyscall: the P stays with this
		// thread, so sysmon does not retake it and no other thread is woken
		// to run it. Measured on one bulk relay stream: futex calls 454 ->
		// 54 and nanosleep 2,249 -> 145 per GiB, proxy CPU 0.84-0.90x.
		// Safe: roff and woff are nil or point to the caller's live int64.
		r, _, e := unix.RawSyscall6(unix.SYS_SPLICE, uintptr(rfd), uintptr(unsafe.Pointer(roff)),
			uintptr(wfd), uintptr(unsafe.Pointer(woff)), uintptr(n), uintptr(flags&^SpliceRaw))
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
	k, err := unix.Splice(rfd, roff, wfd, woff, n, flags)
	return int(k), err
}

func tee(rfd, wfd, n, flags int) (int, error) {
	k, err := unix.Tee(rfd, wfd, n, flags)
	return int(k), err
}

// MaxChunk is the most any of read, write, sendfile, splice or
// copy_file_range moves in one call (MAX_RW_COUNT, 0x7ffff000): larger
// requests are silently shortened, so callers loop.
const MaxChunk = 0x7ffff000

// SpliceFlags are the flags of every splice and tee call of the module:
// SPLICE_F_NONBLOCK (the pipe side never blocks: waiting is the netpoller's
// job) and SPLICE_F_MOVE (a hint). Never SPLICE_F_MORE: it corks TCP like
// MSG_MORE and holds back the tail of an interactive exchange
// (golang/go#10948).
const SpliceFlags = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK

// SpliceRaw is not a kernel flag: added to Splice's flags, it asks for the
// call to be made as a raw system call, without telling the Go scheduler.
// Only for calls that cannot block: both ends are pipes or sockets in
// non-blocking mode (O_NONBLOCK seen by fstat/F_GETFL; the pipe side is
// non-blocking through SPLICE_F_NONBLOCK too). Never for regular files or
// devices, whose calls may sleep on I/O. The trade: a long call (a 1 MiB
// drain into a loopback socket takes a few hundred microseconds) holds its
// P, delaying a GC stop-the-world by as much.
const SpliceRaw = 1 << 30

// Errno values the callers name. Re-exported so that no package outside
// this one imports golang.org/x/sys.
const (
	EBADF = unix.EBADF
	EINTR = unix.EINTR
)

// Iovec is one buffer of a vmsplice(2) call.
type Iovec = unix.Iovec

// MakeIovec describes b (which must not be empty) for Vmsplice.
func MakeIovec(b []byte) Iovec {
	v := Iovec{Base: &b[0]}
	v.SetLen(len(b)) // Len is uint32 on 32-bit and uint64 on 64-bit platforms
	return v
}

// AdvanceIovecs drops the first k bytes of iov: the ones vmsplice took.
func AdvanceIovecs(iov []Iovec, k int) []Iovec {
	for k > 0 && len(iov) > 0 {
		l := int(iov[0].Len)
		if k < l {
			// Safe: k < l, so the new base stays inside the buffer the
			// caller passed, which the caller keeps alive (Pipe.pinned).
			iov[0].Base = (*byte)(unsafeAdd(iov[0].Base, k))
			iov[0].SetLen(l - k)
			return iov
		}
		k -= l
		iov = iov[1:]
	}
	return iov
}

// OpenPipe makes a pipe with both ends non-blocking and close-on-exec,
// returned as raw descriptors the caller owns.
func OpenPipe() (r, w int, err error) {
	var p [2]int
	if err := Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return -1, -1, err
	}
	return p[0], p[1], nil
}

// SetPipeSize asks for a pipe capacity of want bytes (F_SETPIPE_SZ) and
// returns the capacity the pipe has afterwards. A refusal (EPERM past
// pipe-user-pages-soft or above pipe-max-size) is not an error: the pipe
// keeps the size it has.
func SetPipeSize(fd, want int) int {
	if n, err := FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, want); err == nil {
		return n
	}
	n, err := FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return 64 << 10 // the kernel's default; only a guess for sizing reads
	}
	return n
}

// Buffered returns the bytes queued in a pipe or socket (FIONREAD), or -1
// if the kernel does not say.
//
// The kernel writes a C int, 32 bits on every architecture. Read into a Go
// int, as unix.IoctlGetInt does, it fills the first half of a 64-bit word:
// the high half on a big-endian machine, where 5000 bytes read as
// 21474836480000 (s390x, run under qemu-s390x).
func Buffered(fd int) int {
	n, err := IoctlGetUint32(fd, unix.TIOCINQ) // TIOCINQ is FIONREAD
	if err != nil {
		return -1
	}
	return int(int32(n))
}

// Activity is what the kernel's counters say about a socket's traffic, for
// telling a connection that is still moving bytes from an idle one while
// the caller itself sees no byte move (a drain blocked on a slow reader: the
// reader takes bytes from the socket's send queue, the caller's write waits
// for room). Two samples that differ mean bytes moved between them.
type Activity struct {
	// Acked and Received are TCP's tcpi_bytes_acked (bytes that left the
	// send queue: the peer has them) and tcpi_bytes_received (Linux 4.1
	// and later; 0 on other sockets and older kernels). They only grow.
	Acked, Received uint64
	// OutQ and InQ are the bytes queued to send (SIOCOUTQ: for TCP, sent
	// but not acked plus not yet sent) and to read (SIOCINQ); -1 where the
	// kernel does not say.
	OutQ, InQ int
}

// SocketActivity samples fd's Activity. It costs two or three system
// calls: callers sample only when their own counters stood still.
func SocketActivity(fd int) Activity {
	a := Activity{OutQ: -1, InQ: Buffered(fd)}
	if n, err := IoctlGetUint32(fd, unix.TIOCOUTQ); err == nil { // TIOCOUTQ is SIOCOUTQ; a C int
		a.OutQ = int(int32(n))
	}
	if ti, err := TCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
		a.Acked, a.Received = ti.Bytes_acked, ti.Bytes_received
	}
	return a
}

// WaitReadable waits until the descriptor behind rc has something to read
// (bytes, EOF or an error), through the netpoller. A RawConn wait must
// follow that descriptor's own "nothing to read" inside the same callback
// (the netpoller is edge-triggered, and each RawConn.Read starts by
// forgetting past edges), so the callback first asks poll(2), without
// waiting, and waits only on its "not readable". A caller waits here, out
// of its transfer's deeper frames, so that an idle connection's goroutine
// holds a small stack. The error is the netpoller's: a deadline, a close.
func WaitReadable(rc syscall.RawConn) error {
	w := waiters.Get().(*waiter)
	w.asked = false
	err := rc.Read(w.fn)
	waiters.Put(w)
	return err
}

// waiter is WaitReadable's callback and its state, pooled so that a wait
// allocates nothing (a closure passed to RawConn.Read escapes).
type waiter struct {
	asked bool
	fds   [1]unix.PollFd
	fn    func(fd uintptr) bool
}

var waiters = sync.Pool{New: func() any {
	w := &waiter{}
	w.fn = w.ready
	return w
}}

func (w *waiter) ready(fd uintptr) bool {
	if w.asked {
		return true // woken: readable, or about to say why not
	}
	w.asked = true
	w.fds[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN | unix.POLLRDHUP}
	n, err := Poll(w.fds[:], 0)
	return err != nil || n > 0
}

// PollPair asks poll(2), without waiting, whether rfd is readable and wfd
// writable. Hang-up and error count as ready: the next call reports them.
func PollPair(rfd, wfd int) (readable, writable bool, err error) {
	fds := [2]unix.PollFd{{Fd: int32(rfd), Events: unix.POLLIN}, {Fd: int32(wfd), Events: unix.POLLOUT}}
	if _, err := Poll(fds[:], 0); err != nil {
		return false, false, err
	}
	const bad = unix.POLLHUP | unix.POLLERR
	return fds[0].Revents&(unix.POLLIN|bad) != 0, fds[1].Revents&(unix.POLLOUT|bad) != 0, nil
}

// PollPairWait waits up to timeout milliseconds for rfd to be readable or
// wfd writable.
func PollPairWait(rfd, wfd, timeout int) {
	fds := [2]unix.PollFd{{Fd: int32(rfd), Events: unix.POLLIN}, {Fd: int32(wfd), Events: unix.POLLOUT}}
	_, _ = Poll(fds[:], timeout)
}

// pollWait waits in poll(2) until fd is ready for the given direction, or
// timeout milliseconds pass (-1: no limit). EINTR is retried.
func pollWait(fd int, write bool, timeout int) error {
	ev := int16(unix.POLLIN)
	if write {
		ev = unix.POLLOUT
	}
	fds := [1]unix.PollFd{{Fd: int32(fd), Events: ev}}
	for {
		_, err := Poll(fds[:], timeout)
		if err != unix.EINTR {
			return err
		}
	}
}

// KernelAtLeast reports whether the running kernel's release is at least
// major.minor (from uname(2); false if it cannot be read).
func KernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	maj, min, _ := parseRelease(unix.ByteSliceToString(u.Release[:]))
	return maj > major || (maj == major && min >= minor)
}

func parseRelease(s string) (major, minor int, ok bool) {
	var parts [2]int
	i := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			parts[i] = parts[i]*10 + int(c-'0')
		case c == '.' && i == 0:
			i++
		default:
			return parts[0], parts[1], i == 1
		}
	}
	return parts[0], parts[1], i == 1
}
