package sys

import (
	"errors"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The raw system calls. Tests replace them (through internal/testutil) to
// inject errno values, short transfers and (0, nil) results; production code
// never reassigns them. They are read without locks, so a test that swaps
// one must not run in parallel with transfers.
var (
	CopyFileRange = unix.CopyFileRange
	Sendfile      = unix.Sendfile
	Fstat         = unix.Fstat
	FcntlInt      = unix.FcntlInt
	GetsockoptInt = unix.GetsockoptInt
	Seek          = unix.Seek
	Poll          = unix.Poll
)

// MaxChunk is the most any of read, write, sendfile, splice or
// copy_file_range moves in one call (MAX_RW_COUNT, 0x7ffff000): larger
// requests are silently shortened, so callers loop.
const MaxChunk = 0x7ffff000

// Action is what a fast path does with an errno.
type Action uint8

const (
	// Fatal: the transfer failed. Report the error with the exact count.
	Fatal Action = iota
	// Retry: call again at once.
	Retry
	// Wait: the descriptor is not ready; wait through the netpoller.
	Wait
	// Fallback: this path cannot serve the pair. Resume with the next path
	// at the exact next byte.
	Fallback
)

// Classify sorts the errno values a fast path (copy_file_range, sendfile,
// splice) can see. moved reports whether any byte of this transfer has
// already moved. This is the only place that decides between "the transfer
// failed" and "use another path"; every fast path of the module calls it.
func Classify(errno syscall.Errno, moved bool) Action {
	switch errno {
	case unix.EINTR:
		// A signal arrived before anything moved. Go installs handlers with
		// SA_RESTART, but sendfile and splice on sockets with a timeout are
		// not restarted (signal(7)).
		return Retry
	case unix.EAGAIN:
		// Non-blocking socket or pipe full (or empty, for splice sources).
		return Wait
	case unix.ENOSYS:
		// The call does not exist: copy_file_range before Linux 4.5,
		// qemu-user and gVisor builds without it (field reports).
		return Fallback
	case unix.EPERM:
		// Blocked by a seccomp profile: Docker's default before 20.10 and
		// other container runtimes return EPERM for copy_file_range.
		return Fallback
	case unix.EXDEV:
		// copy_file_range across filesystems: refused before Linux 5.3,
		// allowed in 5.3-5.18, refused again since 5.19 (commit 868f9f2f8e00)
		// unless both sides are the same filesystem type. ext4 -> tmpfs here.
		return Fallback
	case unix.EINVAL:
		// copy_file_range: a pipe or socket on either side, same file with
		// overlapping ranges, an O_DIRECT side with an unaligned range.
		// sendfile: a source without splice_read (pipe, socket, some /proc
		// files), an O_APPEND destination. splice: neither side a pipe.
		return Fallback
	case unix.EOPNOTSUPP:
		// copy_file_range on NFS and filesystems without a copy method
		// (field reports); ENOTSUP is the same value on Linux.
		return Fallback
	case unix.EBADF:
		// copy_file_range into an O_APPEND file, also when O_APPEND was added
		// with fcntl(F_SETFL) after open (golang/go#79660). The descriptors
		// themselves are held open by RawConn, so this is never a closed fd;
		// the plain path reports a real EBADF in its own words.
		return Fallback
	case unix.ESPIPE:
		// An offset given for a pipe side (splice, sendfile from a FIFO).
		return Fallback
	case unix.EIO:
		// copy_file_range on CIFS before any byte moved (field report). After
		// progress it is a real I/O error and the count goes back as is.
		if !moved {
			return Fallback
		}
		return Fatal
	default:
		// EPIPE, ECONNRESET, ENOSPC, EFBIG, EDQUOT, ...: the destination
		// refused the bytes; another path would fail the same way.
		return Fatal
	}
}

// Stat describes a descriptor as the fast paths need it.
type Stat struct {
	Mode   uint32 // S_IFMT bits of st_mode
	Size   int64  // st_size (regular files)
	Dev    uint64
	Ino    uint64
	Flags  int // F_GETFL: only read when asked for
	SoType int // SO_TYPE: only read for sockets
}

// Regular reports whether the descriptor is a regular file.
func (s *Stat) Regular() bool { return s.Mode == unix.S_IFREG }

// StreamSocket reports whether the descriptor is a SOCK_STREAM socket.
func (s *Stat) StreamSocket() bool {
	return s.Mode == unix.S_IFSOCK && s.SoType == unix.SOCK_STREAM
}

// Append reports whether O_APPEND is set (Flags must have been read).
func (s *Stat) Append() bool { return s.Flags&unix.O_APPEND != 0 }

// Inspect fstats the descriptor behind rc. With flags set it also reads the
// file status flags (F_GETFL), which catch O_APPEND added with fcntl after
// open. Sockets also get SO_TYPE, so datagram sockets are never streamed to.
func Inspect(rc syscall.RawConn, flags bool) (Stat, error) {
	var st Stat
	var serr error
	err := rc.Control(func(fd uintptr) {
		var s unix.Stat_t
		if serr = Fstat(int(fd), &s); serr != nil {
			serr = os.NewSyscallError("fstat", serr)
			return
		}
		st.Mode = s.Mode & unix.S_IFMT
		st.Size = s.Size
		st.Dev = s.Dev
		st.Ino = s.Ino
		if flags {
			if st.Flags, serr = FcntlInt(fd, unix.F_GETFL, 0); serr != nil {
				serr = os.NewSyscallError("fcntl", serr)
				return
			}
		}
		if st.Mode == unix.S_IFSOCK {
			if st.SoType, serr = GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TYPE); serr != nil {
				serr = os.NewSyscallError("getsockopt", serr)
			}
		}
	})
	if err != nil {
		return st, err
	}
	return st, serr
}

// Waiter runs an operation on the descriptor behind a RawConn, waiting
// whenever it reports EAGAIN. A Waiter allocates once, on first use, and
// can be reused (pooled) afterwards: the hot paths hold one per transfer
// state so that a call allocates nothing.
//
// Waiting goes through the netpoller, which honours deadlines and Close. A
// descriptor the netpoller does not watch (a non-blocking fd adopted by
// os.NewFile while it was blocking, or set O_NONBLOCK later by another
// process sharing it) cannot be waited on that way: the poller answers
// "waiting for unsupported file type". The Waiter then waits in poll(2)
// instead, so such a descriptor never busy-loops on EAGAIN
// (golang/go#75304).
type Waiter struct {
	// Op is called with the descriptor. It returns true when it is done
	// (finished or failed: it keeps its own result) and false when the
	// descriptor reported EAGAIN.
	Op func(fd int) (done bool)

	events   int16
	selfPoll bool
	asked    bool
	pollErr  error
	fn       func(uintptr) bool
}

// Write runs w.Op under rc's write lock, waiting for writability.
func (w *Waiter) Write(rc syscall.RawConn) error { return w.run(rc, unix.POLLOUT) }

// Read runs w.Op under rc's read lock, waiting for readability.
func (w *Waiter) Read(rc syscall.RawConn) error { return w.run(rc, unix.POLLIN) }

func (w *Waiter) run(rc syscall.RawConn, events int16) error {
	if w.fn == nil {
		w.fn = w.call
	}
	w.events, w.selfPoll, w.pollErr = events, false, nil
	for {
		w.asked = false
		var err error
		if events == unix.POLLOUT {
			err = rc.Write(w.fn)
		} else {
			err = rc.Read(w.fn)
		}
		if w.pollErr != nil {
			return os.NewSyscallError("poll", w.pollErr)
		}
		if err == nil || !w.asked || w.selfPoll || !notPollable(err) {
			return err
		}
		w.selfPoll = true
	}
}

func (w *Waiter) call(fd uintptr) bool {
	for {
		if w.Op(int(fd)) {
			return true
		}
		if !w.selfPoll {
			w.asked = true
			return false
		}
		if w.pollErr = pollOne(int(fd), w.events); w.pollErr != nil {
			return true // poll(2) itself failed: report it rather than spin
		}
	}
}

// notPollable reports the netpoller's answer for a descriptor it does not
// watch. internal/poll returns an unexported error with this text.
func notPollable(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, os.ErrClosed) {
		return false
	}
	return strings.Contains(err.Error(), "unsupported file type")
}

func pollOne(fd int, events int16) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
	for {
		_, err := Poll(fds, -1)
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
