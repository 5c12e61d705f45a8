// Package directio reads and writes files with direct I/O (O_DIRECT;
// FILE_FLAG_NO_BUFFERING on Windows), so a huge file streamed once does
// not push everyone else's hot pages out of the page cache.
//
// Zero-copy paths (sendfile, splice) go through the page cache: perfect for
// small, hot files, ruinous for a 100 GiB backup streamed once. The
// classic rule, nginx's "sendfile on; aio on; directio 1024m", is
// zero-copy for small files and asynchronous direct I/O for huge ones.
// zerocopy.Copier applies it by itself once DirectIOThreshold is set.
// Measured on the project machine: in a 512 MiB memory cgroup, streaming a
// 1 GiB file with sendfile left 0% of a warm 200 MiB file resident; with
// this package's Reader, 100% (TestPageCacheSurvives, which runs with
// ZEROCOPY_HEAVY=1: it writes 1.2 GiB and needs root and a memory cgroup).
//
//	f, err := directio.OpenFile("backup.tar", os.O_RDONLY, 0)
//	if err != nil {
//		return err // wraps errors.ErrUnsupported where the filesystem refuses O_DIRECT
//	}
//	defer f.Close()
//	r, err := directio.NewReader(f, nil) // 4 reads of 4 MiB in flight
//	if err != nil {
//		return err
//	}
//	defer r.Close()
//	n, err := r.WriteTo(conn)
//
// Direct I/O needs aligned buffers, offsets and lengths. AlignmentOf asks
// the kernel (statx STATX_DIOALIGN, Linux 6.1+; 512/512 on ext4 here) and
// falls back to a safe 4096/4096; AlignedBuffer makes aligned buffers. The
// Reader and Writer handle alignment themselves: any start offset, any
// file size, any Write size.
//
// # Caveats
//
//   - Direct I/O costs one CPU copy more than sendfile (the bytes land in
//     a user buffer) and reads the disk every time. Use it for data read
//     once; keep hot files on the zero-copy paths.
//   - A Reader or Writer on a file opened without O_DIRECT (a filesystem
//     refused it, or the caller chose so) works through the page cache and
//     drops what it has used (POSIX_FADV_DONTNEED; for writes after
//     sync_file_range). Direct() tells which mode runs.
//   - The Writer clears O_DIRECT on the file with fcntl for the one write
//     of an unaligned head or tail, then sets it back. Another goroutine
//     writing the same *os.File at that moment would write without
//     O_DIRECT.
//   - The Reader reads ahead: up to Depth blocks past what was returned
//     have been read when it is closed. f's offset is set after the bytes
//     returned at EOF and at Close, not after every Read.
//   - The Reader's Depth goroutines stop at EOF, at the first error and at
//     Close. Close a Reader you stop reading early: a Reader dropped
//     unclosed is stopped only when the garbage collector finds it
//     unreachable (a cleanup), and f's offset is then left where it was.
//   - A read that returns 0 bytes, or (direct) an unaligned count, before
//     the size fstat reports is read again; three such reads in a row, or
//     a file that became shorter than it was at NewReader, end the Reader
//     with an error wrapping io.ErrUnexpectedEOF that names the file and
//     the offset. A file that grows while it is read is read to its new
//     end.
//   - The Writer drops O_DIRECT for the rest of a block whose direct write
//     the kernel refused with EINVAL after shortening it (RLIMIT_FSIZE
//     inside the block): the bytes the limit allows are written and EFBIG
//     is returned, as io.Copy would. After an error, Write and ReadFrom
//     count the bytes that reached the file, not those buffered.
//   - Copier.DirectIOThreshold: when the O_DIRECT reopen succeeds but the
//     first direct read fails (FUSE, some overlay and network filesystems
//     take O_DIRECT at open and refuse the reads), nothing has moved, and
//     the Copier runs its usual path from the same byte, with the reason in
//     Report.Fallback. A read error after bytes have moved is returned with
//     the exact count. Errors name the caller's file, not the
//     /proc/self/fd path it was reopened through.
//   - tmpfs accepts O_DIRECT since Linux 6.6 (and reports no alignment);
//     older kernels refuse it at open: OpenFile returns errors.ErrUnsupported
//     naming the filesystem.
//   - darwin: OpenFile sets F_NOCACHE (no alignment rules), Readers and
//     Writers run their buffered mode and Direct() is false;
//     ReopenDirect, and so Copier.DirectIOThreshold, is unsupported. This
//     path is compiled by CI but was not run on a Mac. Other platforms and
//     purego: OpenFile returns errors.ErrUnsupported and Readers and Writers run
//     buffered.
//   - windows: OpenFile opens the file with os.OpenFile (flag and perm
//     keep their meaning), then again with FILE_FLAG_NO_BUFFERING, and
//     FILE_FLAG_WRITE_THROUGH for writing (ReOpenFile, the same access);
//     ReopenDirect is an unbuffered ReOpenFile with the access its flag
//     asks for, so Copier.DirectIOThreshold reads with it. AlignmentOf is the larger of the
//     logical sector and the physical one that performs best
//     (FILE_STORAGE_INFO), else GetDiskFreeSpace's sector size, for
//     memory and offsets alike. Direct() tells whether the handle is
//     unbuffered (FileModeInformation). The flag cannot be turned off on a
//     handle, so the Writer writes an unaligned head or tail through a
//     second, buffered, write-through handle to the same file at the same
//     offset (no window in which another writer of f loses the flag, as
//     with fcntl). A direct Reader's reads of one handle are one at a time
//     (a synchronous handle), so Depth overlaps reading with consuming, and
//     they move f's position until EOF or Close set it. Windows has no
//     fadvise or sync_file_range: a buffered Reader or Writer leaves the
//     cache to the system. Tested under Wine 8, which accepts and reports
//     FILE_FLAG_NO_BUFFERING but ignores its alignment rule; the tests
//     enforce that rule at the system-call seam (512- and 4096-byte
//     sectors) instead.
package directio
