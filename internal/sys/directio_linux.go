package sys

import "golang.org/x/sys/unix"

// The calls the directio package makes, replaceable like the others. Each
// has one signature on every architecture.
var (
	// Pread reads at off without moving the descriptor's offset.
	Pread = unix.Pread
	// Statx is statx(2).
	Statx = unix.Statx
	// Fstatfs is fstatfs(2).
	Fstatfs = unix.Fstatfs
	// Fadvise is posix_fadvise(2).
	Fadvise = unix.Fadvise
	// SyncFileRange is sync_file_range(2).
	SyncFileRange = unix.SyncFileRange
	// FileFlags is fcntl(2) with an int argument, for F_GETFL and
	// F_SETFL. (FcntlInt takes the descriptor as a uintptr; this one takes
	// an int, like every other call of the directio seam.)
	FileFlags = func(fd, cmd, arg int) (int, error) { return unix.FcntlInt(uintptr(fd), cmd, arg) }
)

// Re-exported for the directio package, which does not import
// golang.org/x/sys.
const (
	O_DIRECT                    = unix.O_DIRECT
	F_GETFL                     = unix.F_GETFL
	F_SETFL                     = unix.F_SETFL
	FADV_DONTNEED               = unix.FADV_DONTNEED
	SYNC_FILE_RANGE_WRITE       = unix.SYNC_FILE_RANGE_WRITE
	SYNC_FILE_RANGE_WAIT_BEFORE = unix.SYNC_FILE_RANGE_WAIT_BEFORE
	SYNC_FILE_RANGE_WAIT_AFTER  = unix.SYNC_FILE_RANGE_WAIT_AFTER
)

// Filesystem magic numbers (statfs f_type) that directio names in errors.
const (
	TMPFS_MAGIC           int64 = unix.TMPFS_MAGIC
	OVERLAYFS_SUPER_MAGIC int64 = unix.OVERLAYFS_SUPER_MAGIC
	FUSE_SUPER_MAGIC      int64 = unix.FUSE_SUPER_MAGIC
	EXT4_SUPER_MAGIC      int64 = unix.EXT4_SUPER_MAGIC
	XFS_SUPER_MAGIC       int64 = unix.XFS_SUPER_MAGIC
	BTRFS_SUPER_MAGIC     int64 = unix.BTRFS_SUPER_MAGIC
	NFS_SUPER_MAGIC       int64 = unix.NFS_SUPER_MAGIC
)

// DioAlign reports the direct-I/O alignment of fd's file from statx
// STATX_DIOALIGN (Linux 6.1+): the memory and file-offset alignments.
// ok is false when the kernel or the filesystem does not report them.
func DioAlign(fd int) (mem, offset int, ok bool) {
	var st unix.Statx_t
	if err := Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_DIOALIGN, &st); err != nil {
		return 0, 0, false
	}
	if st.Mask&unix.STATX_DIOALIGN == 0 || st.Dio_mem_align == 0 || st.Dio_offset_align == 0 {
		return 0, 0, false
	}
	return int(st.Dio_mem_align), int(st.Dio_offset_align), true
}

// FsType returns fd's filesystem magic number (statfs f_type), an int64
// on every architecture (the field is int32, uint32 or int64 by port).
func FsType(fd int) (int64, error) {
	var st unix.Statfs_t
	if err := Fstatfs(fd, &st); err != nil {
		return 0, err
	}
	return fsMagic(st.Type), nil
}

// fsMagic reads f_type as the 32-bit magic number it is on every
// filesystem. Widened as it comes, an int32 field (386, arm, mips, ppc)
// turns the magics with the top bit set negative: btrfs's 0x9123683e
// became -0x6edc97c2 and matched no name.
func fsMagic[T int32 | uint32 | int64](typ T) int64 { return int64(uint32(typ)) }

// OpenFlags is open(2) with O_CLOEXEC added, retrying EINTR. directio
// uses it to reopen a descriptor through /proc/self/fd and wrap the result
// with os.NewFile under the caller's file name.
var OpenFlags = func(path string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, mode)
		if err != unix.EINTR {
			return fd, err
		}
	}
}
