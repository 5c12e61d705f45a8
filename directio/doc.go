// Package directio reads and writes files with direct I/O (O_DIRECT), so
// a huge file streamed once does not push everyone else's hot pages out of
// the page cache.
//
// Zero-copy paths (sendfile, splice) go through the page cache: perfect for
// small, hot files, ruinous for a 100 GiB backup streamed once. The
// classic rule, nginx's "sendfile on; aio on; directio 1024m", is
// zero-copy for small files and asynchronous direct I/O for huge ones.
// zerocopy.Copier applies it by itself once DirectIOThreshold is set.
// Measured on the project machine: in a 512 MiB memory cgroup, streaming a
// 1 GiB file with sendfile left 0% of a warm 200 MiB file resident; with
// this package's Reader, 100% (TestPageCacheSurvives).
//
//	f, err := directio.OpenFile("backup.tar", os.O_RDONLY, 0)
//	r, err := directio.NewReader(f, nil)   // 4 reads of 1 MiB in flight
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
//   - tmpfs accepts O_DIRECT since Linux 6.6 (and reports no alignment);
//     older kernels refuse it at open: OpenFile returns ErrUnsupported
//     naming the filesystem.
//   - darwin: OpenFile sets F_NOCACHE (no alignment rules), Readers and
//     Writers run their buffered mode and Direct() is false;
//     ReopenDirect, and so Copier.DirectIOThreshold, is unsupported. This
//     path is compiled by CI but was not run on a Mac. Other platforms and
//     purego: OpenFile returns ErrUnsupported and Readers and Writers run
//     buffered.
package directio
