package sys

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Action is what a fast path does with an errno.
type Action uint8

const (
	// Done: the call returned a count (possibly 0). Only Loop.Do returns it.
	Done Action = iota
	// Fatal: the transfer failed. Report the error with the exact count.
	Fatal
	// Fallback: this path cannot serve the pair. Resume with the next path
	// at the exact next byte.
	Fallback
	// Missing: the call does not exist in this kernel (ENOSYS). Fall back
	// as for Fallback, and do not make the call again in this process.
	Missing
	// Retry: call again at once.
	Retry
	// Wait: the descriptor is not ready; wait for it and call again.
	Wait
	// Switch: the other descriptor of a direct splice is the one not
	// ready; wait on it instead. Only Loop.Do returns it, and only for a
	// Loop with an Again hook.
	Switch
)

// Table gives the meaning of each errno of one system call. moved reports
// whether the transfer has already moved bytes. Every system call of the
// module has its own table: an errno means one thing per call (EINVAL from
// copy_file_range is not EINVAL from splice).
//
// Only two answers disable a call for the whole process: ENOSYS (the call
// does not exist: every table answers Missing for it), and the probe with
// invalid descriptors that a seccomp filter answers with EPERM or ENOSYS
// before the kernel looks at them (the root package's probe). EPERM from a real call is a per-file
// answer (an immutable or append-only file, a filesystem's policy), so it
// falls back for that call only, as the stdlib does
// (os/zero_copy_linux.go, internal/poll/copy_file_range_linux.go).
type Table func(errno syscall.Errno, moved bool) Action

// common handles the errnos that mean the same for every call.
func common(errno syscall.Errno) (Action, bool) {
	switch errno {
	case unix.EINTR:
		// A signal arrived before anything moved. Go installs handlers with
		// SA_RESTART, but sendfile and splice on sockets with a timeout are
		// not restarted (signal(7)).
		return Retry, true
	case unix.EAGAIN:
		// Non-blocking socket or pipe full (or empty, for sources).
		return Wait, true
	case unix.ENOSYS:
		// The call does not exist: copy_file_range before Linux 4.5,
		// qemu-user and gVisor builds without it (field reports).
		return Missing, true
	}
	return Fatal, false
}

// CopyFileRangeErrors is copy_file_range(2)'s table. The rows follow
// fs/read_write.c (vfs_copy_file_range, generic_copy_file_checks) and the
// stdlib's handleCopyFileRangeErr (internal/poll/copy_file_range_linux.go).
func CopyFileRangeErrors(errno syscall.Errno, moved bool) Action {
	if a, ok := common(errno); ok {
		return a
	}
	switch errno {
	case unix.EXDEV:
		// Across filesystems: refused before Linux 5.3, allowed in
		// 5.3-5.18, refused again since 5.19 (commit 868f9f2f8e00) unless
		// both sides are the same filesystem type. ext4 -> tmpfs here.
		return Fallback
	case unix.EINVAL:
		// A pipe or socket on either side, the same file with overlapping
		// ranges, an O_DIRECT side with an unaligned range, flags != 0.
		return Fallback
	case unix.EOPNOTSUPP:
		// NFS and filesystems without a copy method (field reports);
		// ENOTSUP is the same value on Linux.
		return Fallback
	case unix.EBADF:
		// Destination opened O_APPEND, also when O_APPEND was added with
		// fcntl(F_SETFL) after open (golang/go#79660), or opened read-only.
		// The descriptors are held open by RawConn, so this is never a
		// closed fd; the plain path reports a real EBADF in its own words.
		return Fallback
	case unix.EPERM:
		// An immutable or append-only file (generic_copy_file_checks), or a
		// seccomp profile (Docker before 20.10). Per file: fall back.
		return Fallback
	case unix.ETXTBSY:
		// A swap file or an active executable on one side.
		return Fallback
	case unix.EIO:
		// CIFS before any byte moved (field report). After progress it is a
		// real I/O error and the count goes back as is.
		if !moved {
			return Fallback
		}
	}
	// ENOSPC, EFBIG, EDQUOT, EIO after progress: the destination refused
	// the bytes; another path would fail the same way.
	return Fatal
}

// SendfileErrors is sendfile(2)'s table (fs/read_write.c do_sendfile,
// fs/splice.c splice_direct_to_actor).
func SendfileErrors(errno syscall.Errno, moved bool) Action {
	if a, ok := common(errno); ok {
		return a
	}
	switch errno {
	case unix.EINVAL:
		// A source without splice_read (a pipe, a socket, some /proc
		// files), an O_APPEND destination, an offset past the limits.
		return Fallback
	case unix.ESPIPE:
		// An offset given for a source that cannot seek (a FIFO).
		return Fallback
	case unix.EOPNOTSUPP:
		// A destination or source filesystem without splice support.
		return Fallback
	case unix.EBADF:
		// The source not open for reading or the destination not open for
		// writing: the plain path reports it in io.Copy's words.
		return Fallback
	case unix.EPERM:
		// A seccomp profile, or an append-only/immutable destination.
		return Fallback
	case unix.EIO:
		if !moved {
			return Fallback
		}
	}
	// EPIPE, ECONNRESET, ENOSPC, EFBIG, EIO after progress: final.
	return Fatal
}

// SpliceErrors is splice(2)'s table (fs/splice.c do_splice).
func SpliceErrors(errno syscall.Errno, moved bool) Action {
	if a, ok := common(errno); ok {
		return a
	}
	switch errno {
	case unix.EINVAL:
		// Neither side a pipe, an O_APPEND destination, a file system
		// without splice_read/splice_write, a pipe into itself.
		return Fallback
	case unix.ESPIPE:
		// An offset given for a pipe side.
		return Fallback
	case unix.EBADF:
		// A side not open in the direction asked: the plain path reports it.
		return Fallback
	case unix.EPERM:
		// A seccomp profile, or an append-only/immutable destination.
		return Fallback
	case unix.EOPNOTSUPP:
		// A socket family without splice support.
		return Fallback
	case unix.EIO:
		if !moved {
			return Fallback
		}
	}
	// EPIPE, ECONNRESET, ENOSPC, EIO after progress: final.
	return Fatal
}

// TeeErrors is tee(2)'s table (fs/splice.c do_tee). Both sides are always
// pipes of the module's own.
func TeeErrors(errno syscall.Errno, moved bool) Action {
	if a, ok := common(errno); ok {
		return a
	}
	switch errno {
	case unix.EINVAL, unix.EPERM:
		// Not two pipes (cannot happen with our pipes), or a seccomp profile.
		return Fallback
	}
	return Fatal
}

// VmspliceErrors is vmsplice(2)'s table (fs/splice.c vmsplice).
func VmspliceErrors(errno syscall.Errno, moved bool) Action {
	if a, ok := common(errno); ok {
		return a
	}
	switch errno {
	case unix.EPERM:
		// A seccomp profile.
		return Fallback
	case unix.EINVAL:
		// Not a pipe, too many iovecs: nothing was consumed.
		if !moved {
			return Fallback
		}
	}
	// EFAULT (a bad buffer), EBADF, ENOMEM: final.
	return Fatal
}

// Pipe2Errors is pipe2(2)'s table. Nothing has been consumed when it
// fails, so every errno lets the transfer fall back to a plain copy: a
// server under descriptor pressure keeps serving, as io.Copy would.
func Pipe2Errors(errno syscall.Errno, moved bool) Action {
	switch errno {
	case unix.EINTR:
		return Retry
	case unix.EMFILE, unix.ENFILE:
		// The process or system descriptor limit (RLIMIT_NOFILE).
		return Fallback
	case unix.EPERM, unix.ENOSYS:
		// A seccomp profile. (pipe2 is not a transfer method: its ENOSYS
		// disables nothing.)
		return Fallback
	}
	// ENOMEM and the rest: still nothing consumed.
	return Fallback
}
