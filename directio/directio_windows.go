//go:build windows && !purego

package directio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/zerocopy-go/zerocopy/internal/sys"
)

// Windows's direct I/O is a handle opened with FILE_FLAG_NO_BUFFERING: the
// system cache is bypassed, and every offset, length and buffer address
// must be a multiple of the volume's sector size. The flag belongs to the
// handle's file object and cannot be turned off on it, so unaligned heads
// and tails are written through a second, buffered handle to the same
// file (ReOpenFile), at the same offset.

// share is the sharing of the handles opened here: the stdlib's
// (FILE_SHARE_READ|FILE_SHARE_WRITE), plus FILE_SHARE_DELETE for the
// short-lived ones so that they never stand in a rename's way.
const share = sys.FILE_SHARE_READ | sys.FILE_SHARE_WRITE

// OpenFile opens name as os.OpenFile does (flag and perm keep their
// meaning: O_CREATE, O_EXCL, O_TRUNC and O_APPEND are applied by that
// open), then opens the file again with FILE_FLAG_NO_BUFFERING, and
// FILE_FLAG_WRITE_THROUGH if it is opened for writing, with the same
// access (ReOpenFile), and closes the first handle. A volume that refuses
// unbuffered handles gives an error wrapping errors.ErrUnsupported.
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var access uint32
	var aerr error
	if err := sys.Handle(f, func(h syscall.Handle) { access, aerr = sys.FileAccess(h) }); err != nil {
		return nil, err
	}
	if aerr != nil {
		return nil, fmt.Errorf("directio: OpenFile %s: %w", name, os.NewSyscallError("NtQueryInformationFile", aerr))
	}
	flags := uint32(sys.FILE_FLAG_NO_BUFFERING)
	if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		flags |= sys.FILE_FLAG_WRITE_THROUGH
	}
	g, err := sys.Reopen(f, access, share, flags)
	if err != nil {
		return nil, fmt.Errorf("directio: OpenFile %s: unbuffered (FILE_FLAG_NO_BUFFERING) reopen refused: %w: %w", name, err, errors.ErrUnsupported)
	}
	return g, nil
}

// ReopenDirect opens f's file again with FILE_FLAG_NO_BUFFERING
// (ReOpenFile), with the access mode flag (os.O_RDONLY, os.O_WRONLY or
// os.O_RDWR; other flags are refused): a new handle with its own file
// object, so its own position (at 0) and flags; f's are never touched. The
// new *os.File carries f's name. The caller owns it and closes it.
func ReopenDirect(f *os.File, flag int) (*os.File, error) {
	var access uint32
	switch flag {
	case os.O_RDONLY:
		access = sys.GENERIC_READ
	case os.O_WRONLY:
		access = sys.GENERIC_WRITE
	case os.O_RDWR:
		access = sys.GENERIC_READ | sys.GENERIC_WRITE
	default:
		return nil, fmt.Errorf("directio: ReopenDirect %s: flag %#x is not an access mode", f.Name(), flag)
	}
	g, err := sys.Reopen(f, access, share|sys.FILE_SHARE_DELETE, sys.FILE_FLAG_NO_BUFFERING)
	if err != nil {
		return nil, fmt.Errorf("directio: ReopenDirect %s: %w: %w", f.Name(), err, errors.ErrUnsupported)
	}
	return g, nil
}

// AlignmentOf reports the alignment unbuffered I/O needs on f's volume:
// the larger of the logical sector and the physical sector that performs
// best (FILE_STORAGE_INFO, Windows 8 and later), else the sector size that
// GetDiskFreeSpace reports for the volume, else a safe 4096. Memory and
// Offset are the same: Windows asks buffer addresses to be aligned to the
// physical sector.
func AlignmentOf(f *os.File) (Alignment, error) {
	var sector uint32
	if err := sys.Handle(f, func(h syscall.Handle) {
		if logical, physical, err := sys.StorageInfo(h); err == nil && logical > 0 {
			sector = max(logical, physical)
			return
		}
		if bps, err := sys.SectorSize(h); err == nil {
			sector = bps
		}
	}); err != nil {
		return Alignment{}, fmt.Errorf("directio: AlignmentOf: %w", err)
	}
	if sector == 0 || sector&(sector-1) != 0 {
		return safeAlignment, nil
	}
	return Alignment{Memory: int(sector), Offset: int(sector)}, nil
}

// isDirect reports whether f's handle was opened with
// FILE_FLAG_NO_BUFFERING (FileModeInformation).
func isDirect(f *os.File) bool {
	var mode uint32
	var err error
	if cerr := sys.Handle(f, func(h syscall.Handle) { mode, err = sys.FileMode(h) }); cerr != nil || err != nil {
		return false
	}
	return mode&sys.FILE_NO_INTERMEDIATE_BUFFERING != 0
}

// isAppend reports a handle that may only append (os.O_APPEND: access
// FILE_APPEND_DATA without FILE_WRITE_DATA).
func isAppend(f *os.File) bool {
	var access uint32
	var err error
	if cerr := sys.Handle(f, func(h syscall.Handle) { access, err = sys.FileAccess(h) }); cerr != nil || err != nil {
		return false
	}
	return access&sys.FILE_APPEND_DATA != 0 && access&sys.FILE_WRITE_DATA == 0
}

// Windows has no fadvise or sync_file_range: a buffered Reader or Writer
// goes through the system cache and leaves it to the cache manager.
func dropBehind(*os.File, int64, int64)  {}
func flushBehind(*os.File, int64, int64) {}

// pread reads at off. On an unbuffered handle it is one ReadFile at that
// offset (f.ReadAt would go on at the unaligned offset after a short read
// at the end of the file, which Windows refuses); it moves f's position,
// which the Reader sets at EOF and Close. Otherwise it is f.ReadAt.
func pread(f *os.File, b []byte, off int64) (int, error) {
	if !isDirect(f) {
		n, err := f.ReadAt(b, off)
		if err == io.EOF {
			err = nil
		}
		return n, err
	}
	var n int
	var rerr error
	if err := sys.Handle(f, func(h syscall.Handle) { n, rerr = sys.ReadAt(h, b, off) }); err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, os.NewSyscallError("ReadFile", rerr)
	}
	if n < 0 || n > len(b) {
		return 0, fmt.Errorf("directio: ReadFile returned %d for a %d-byte buffer", n, len(b))
	}
	return n, nil
}

// writeDirect writes aligned b at off (f's offset) with one WriteFile,
// which leaves f's offset after it. An append-only f writes at its end.
func writeDirect(f *os.File, b []byte, off int64) (int, error) {
	if isAppend(f) {
		off = -1
	}
	var n int
	var werr error
	if err := sys.Handle(f, func(h syscall.Handle) { n, werr = sys.WriteAt(h, b, off) }); err != nil {
		return 0, err
	}
	if werr != nil {
		return n, os.NewSyscallError("WriteFile", werr)
	}
	return n, nil
}

// writeUnaligned writes b at off (f's offset) through a buffered handle to
// the same file (ReOpenFile without FILE_FLAG_NO_BUFFERING, with f's
// access, write-through), then moves f's offset after it. An append-only
// f writes at its end.
func writeUnaligned(f *os.File, b []byte, off int64) (int, error) {
	var access uint32
	var aerr error
	if err := sys.Handle(f, func(h syscall.Handle) { access, aerr = sys.FileAccess(h) }); err != nil {
		return 0, err
	}
	if aerr != nil {
		return 0, os.NewSyscallError("NtQueryInformationFile", aerr)
	}
	g, err := sys.Reopen(f, access, share|sys.FILE_SHARE_DELETE, sys.FILE_FLAG_WRITE_THROUGH)
	if err != nil {
		return 0, fmt.Errorf("opening a buffered handle for an unaligned write: %w", err)
	}
	defer g.Close()
	at := off
	if access&sys.FILE_APPEND_DATA != 0 && access&sys.FILE_WRITE_DATA == 0 {
		at = -1
	}
	var n int
	var werr error
	if err := sys.Handle(g, func(h syscall.Handle) { n, werr = sys.WriteAt(h, b, at) }); err != nil {
		return 0, err
	}
	if n > 0 {
		if _, err := f.Seek(off+int64(n), io.SeekStart); err != nil && werr == nil {
			werr = err
		}
	}
	if werr != nil {
		return n, os.NewSyscallError("WriteFile", werr)
	}
	return n, nil
}
