//go:build linux && !purego

package directio

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// OpenFile opens name with O_DIRECT added to flag. A filesystem that
// refuses O_DIRECT (tmpfs before Linux 6.6, some FUSE and overlay setups)
// gives an error wrapping errors.ErrUnsupported that names it; other errors,
// EINVAL from bad flags among them, are returned as they are.
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag|sys.O_DIRECT, perm)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, syscall.EINVAL) {
		return nil, err
	}
	// EINVAL: is it O_DIRECT the filesystem refuses, or the flags?
	g, err2 := os.OpenFile(name, flag&^(os.O_CREATE|os.O_EXCL|os.O_TRUNC), perm)
	if err2 != nil {
		return nil, err
	}
	defer g.Close()
	return nil, fmt.Errorf("directio: OpenFile %s: the %s filesystem refuses O_DIRECT: %w", name, fsName(g), errors.ErrUnsupported)
}

// ReopenDirect opens f's file again with O_DIRECT through /proc/self/fd,
// with the access mode flag (os.O_RDONLY, os.O_WRONLY or os.O_RDWR; other
// flags are refused): a new descriptor with its own offset (at 0) and
// flags, so f's own flags are never touched. Opening by path checks the
// file's permissions again: a read-only file cannot be reopened for
// writing. The new *os.File carries f's name, so its errors name the
// caller's file. The caller owns it and closes it; f stays the caller's.
func ReopenDirect(f *os.File, flag int) (*os.File, error) {
	if flag&^(os.O_RDONLY|os.O_WRONLY|os.O_RDWR) != 0 {
		return nil, fmt.Errorf("directio: ReopenDirect %s: flag %#x is not an access mode", f.Name(), flag)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("directio: ReopenDirect %s: %w", f.Name(), err)
	}
	var path string
	if err := rc.Control(func(fd uintptr) { path = "/proc/self/fd/" + strconv.Itoa(int(fd)) }); err != nil {
		return nil, fmt.Errorf("directio: ReopenDirect %s: %w", f.Name(), err)
	}
	fd, err := sys.OpenFlags(path, flag|sys.O_DIRECT, 0)
	if err != nil {
		return nil, fmt.Errorf("directio: ReopenDirect %s: %w", f.Name(), os.NewSyscallError("open", err))
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// AlignmentOf reports the direct-I/O alignment of f's file from statx
// STATX_DIOALIGN (Linux 6.1+), else a safe 4096/4096.
func AlignmentOf(f *os.File) (Alignment, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return Alignment{}, fmt.Errorf("directio: AlignmentOf: %w", err)
	}
	var mem, off int
	var ok bool
	if err := rc.Control(func(fd uintptr) { mem, off, ok = sys.DioAlign(int(fd)) }); err != nil {
		return Alignment{}, fmt.Errorf("directio: AlignmentOf: %w", err)
	}
	if !ok {
		return safeAlignment, nil
	}
	return Alignment{Memory: mem, Offset: off}, nil
}

func flags(f *os.File) int {
	fl := 0
	withFd(f, func(fd int) { fl, _ = sys.FileFlags(fd, sys.F_GETFL, 0) })
	return fl
}

func isDirect(f *os.File) bool { return flags(f)&sys.O_DIRECT != 0 }
func isAppend(f *os.File) bool { return flags(f)&os.O_APPEND != 0 }

func setDirect(f *os.File, on bool) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		fl, err := sys.FileFlags(int(fd), sys.F_GETFL, 0)
		if err != nil {
			ferr = os.NewSyscallError("fcntl", err)
			return
		}
		if on {
			fl |= sys.O_DIRECT
		} else {
			fl &^= sys.O_DIRECT
		}
		if _, err := sys.FileFlags(int(fd), sys.F_SETFL, fl); err != nil {
			ferr = os.NewSyscallError("fcntl", err)
		}
	}); err != nil {
		return err
	}
	return ferr
}

// writeDirect writes aligned b at f's offset, off.
func writeDirect(f *os.File, b []byte, _ int64) (int, error) { return f.Write(b) }

// writeUnaligned writes b at f's offset, off, with O_DIRECT cleared on f
// for this one write (fcntl F_SETFL), then set again.
func writeUnaligned(f *os.File, b []byte, _ int64) (k int, err error) {
	if err := setDirect(f, false); err != nil {
		return 0, fmt.Errorf("clearing O_DIRECT for an unaligned write: %w", err)
	}
	defer func() {
		if serr := setDirect(f, true); serr != nil && err == nil {
			err = fmt.Errorf("%w: %w", errDirectLost, serr)
		}
	}()
	return f.Write(b)
}

// pread reads at off through RawConn, retrying EINTR. (os.File.ReadAt
// retries a short read at the unaligned offset after it: EINVAL with
// O_DIRECT at the end of a file.)
func pread(f *os.File, b []byte, off int64) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var perr error
	if err := rc.Control(func(fd uintptr) {
		for {
			n, perr = sys.Pread(int(fd), b, off)
			if perr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return 0, err
	}
	if perr != nil {
		return 0, os.NewSyscallError("pread", perr)
	}
	if n < 0 || n > len(b) {
		return 0, fmt.Errorf("directio: pread returned %d for a %d-byte buffer", n, len(b))
	}
	return n, nil
}

func withFd(f *os.File, fn func(fd int)) {
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { fn(int(fd)) })
	}
}

func dropBehind(f *os.File, off, n int64) {
	withFd(f, func(fd int) { _ = sys.Fadvise(fd, off, n, sys.FADV_DONTNEED) })
}

// flushBehind starts writeback of what was just written, waits for the
// range before it, and drops that range from the cache (as dd
// oflag=nocache does): dirty pages cannot be dropped until written.
func flushBehind(f *os.File, off, n int64) {
	withFd(f, func(fd int) {
		_ = sys.SyncFileRange(fd, off, n, sys.SYNC_FILE_RANGE_WRITE)
		if off > 0 {
			_ = sys.SyncFileRange(fd, 0, off, sys.SYNC_FILE_RANGE_WAIT_BEFORE|sys.SYNC_FILE_RANGE_WRITE|sys.SYNC_FILE_RANGE_WAIT_AFTER)
			_ = sys.Fadvise(fd, 0, off, sys.FADV_DONTNEED)
		}
	})
}

var fsNames = map[int64]string{
	sys.TMPFS_MAGIC: "tmpfs", sys.OVERLAYFS_SUPER_MAGIC: "overlay", sys.FUSE_SUPER_MAGIC: "fuse",
	sys.EXT4_SUPER_MAGIC: "ext4", sys.XFS_SUPER_MAGIC: "xfs", sys.BTRFS_SUPER_MAGIC: "btrfs",
	sys.NFS_SUPER_MAGIC: "nfs",
}

func fsName(f *os.File) string {
	name := "unknown"
	withFd(f, func(fd int) {
		if typ, err := sys.FsType(fd); err == nil {
			if n, ok := fsNames[typ]; ok {
				name = n
			} else {
				name = fmt.Sprintf("type 0x%x", typ)
			}
		}
	})
	return name
}
