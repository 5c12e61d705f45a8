// Package zerocopy moves bytes between files, pipes and sockets without
// passing them through user memory where the kernel allows it, and with an
// ordinary buffered copy everywhere else. The same bytes arrive either way.
//
// [Copy], [CopyN] and [SendFile] pick the cheapest path for the pair of
// values at hand and a [Copier] reports which one ran ([Report]).
//
// # The copy paths
//
// A read+write loop costs four copies and four context switches per buffer:
// the disk's DMA into the page cache, the CPU copy from the page cache into
// the program's buffer (read), the CPU copy from that buffer into the socket
// buffer (write), and the NIC's DMA out. Each of read and write is a switch
// into the kernel and back.
//
// mmap+write drops one CPU copy (three copies): the program maps the page
// cache and write copies from the mapping straight into the socket buffer.
// The mmap package maps files for that, and for random access without a
// system call per read.
//
// sendfile(2) does the whole transfer in one call, two context switches:
// page cache to socket buffer inside the kernel. With a NIC that does
// scatter-gather DMA the kernel hands it the page-cache pages themselves,
// and the last CPU copy disappears: two DMA copies, no CPU copy.
// copy_file_range(2) is the file-to-file counterpart, and a reflink (no copy
// at all) on filesystems that share extents.
//
// splice(2) moves page references between any descriptor and a pipe, so a
// socket-to-socket proxy never copies payload into user memory (the splice
// package; Copy uses it for socket and pipe sources).
//
// Direct I/O (O_DIRECT) bypasses the page cache entirely: one more CPU copy
// than sendfile, but a huge file streamed once no longer evicts the hot
// small files from the cache (the directio package, and
// Copier.DirectIOThreshold; nginx's "directio 1024m" is the same rule).
//
// On Linux this package chooses, per call:
//
//	source \ destination     regular file        socket, pipe, char device   anything else
//	regular file             copy_file_range,    sendfile                    buffered
//	                         then sendfile
//	stream socket, pipe      splice              splice                      buffered
//	anything else            buffered            buffered                    buffered
//
// "Regular file" means a value implementing syscall.Conn whose descriptor
// fstat reports as a regular file of non-zero size: *os.File, an
// *io.SectionReader over one, an *io.LimitedReader around either. A
// datagram socket is never streamed to or spliced from, and an O_APPEND
// file never gets a kernel path. On other platforms a pair of the standard
// library's own types that has a fast path there (sendfile on darwin and
// freebsd, copy_file_range on freebsd, TransmitFile on Windows server
// editions) is handed to the standard library (MethodStdlib); on Windows
// server editions a file read at explicit offsets (SendFile, a
// SectionReader) into a *net.TCPConn runs TransmitFile at the offset
// (MethodTransmitFile); every other pair takes the buffered path. Under
// the purego build tag every pair takes the buffered path.
//
// When a fast path stops part-way (EINVAL, EXDEV, EOPNOTSUPP, ENOSYS, EPERM
// or EIO before any byte, or a 0 before the end of the file), the next path
// resumes at the exact next byte, and the count includes every byte that
// moved: into an O_DIRECT file with an unaligned tail, io.Copy returns 0
// with 1 MiB on disk, Copy returns 1048576 and the EINVAL. No pipe to be
// had for splice (pipe2 failing with EMFILE under a descriptor limit, or
// EPERM under seccomp) means the buffered path, never a failed transfer.
//
// # Which package for which job
//
//	job                                              use
//	copy a stream as io.Copy would, faster           zerocopy.Copy, zerocopy.CopyN
//	serve byte ranges of one shared file             zerocopy.SendFile
//	serve a file over HTTP (Range, ETag, HEAD)       zerocopy.ServeContent
//	see which path ran, tune the fallback buffer     zerocopy.Copier
//	cancel a copy, show its progress                 Copier's methods (a context), Copier.Progress
//	proxy two conns both ways (half-close, idle)     zerocopy.Relay, zerocopy.Relayer
//	relay a conn a parser already read from          zerocopy.WithReader
//	socket to socket, tee a stream, vmsplice         splice
//	random access to a file as a []byte              mmap
//	copy huge files without evicting the cache       Copier.DirectIOThreshold (both ends), directio
//
// # Caveats
//
//   - Relay takes the two conns over and closes both before it returns; a
//     relay cut by an error, ctx or the idle timeout resets them (RST).
//     It sets no deadline: one the caller sets ends it. A relay waiting
//     for data holds no pipe; one with bytes in flight holds one pipe (two
//     descriptors) per direction. A conn wrapper that embeds a net.Conn
//     hides the descriptor: pass the conn beneath, with WithReader for
//     bytes the wrapper already read.
//   - By reference: sendfile and splice pass page-cache pages, not copies.
//     Bytes of a file overwritten after SendFile returned but before the
//     receiver read them can arrive as the new bytes. Do not rewrite a file
//     in place while it is being served.
//   - A value implementing syscall.Conn is taken to write and read its
//     descriptor's bytes unchanged. A wrapper whose Write frames, encrypts
//     or counts bytes must not expose SyscallConn, or those steps are
//     skipped.
//   - Copy calls a wrapper's ReadFrom or WriteTo only when the wrapper has
//     no descriptor of its own, and only with a stand-in of this package
//     for the other side (see Copy). Progress counts bytes a wrapper takes
//     through its own buffer when it takes them, before it writes them.
//   - A Copier method whose context ends wakes its waits by setting past
//     deadlines on src and dst; those deadlines are then cleared on return,
//     replacing any the caller had set.
//   - Off Linux only the stdlib's own pairs get a fast path (MethodStdlib,
//     see the README's Platforms section), and on Windows server editions
//     SendFile into a *net.TCPConn runs TransmitFile at the offset
//     (MethodTransmitFile). Windows client editions run TransmitFile at
//     most two at a time system-wide, so there neither is used (as the
//     stdlib decided, golang/go#73746): Copy and SendFile copy through a
//     buffer, and Report.Fallback says why for SendFile.
//   - Windows, TransmitFile: the call reads the file through a handle of
//     its own (ReOpenFile), so the caller's *os.File keeps its position
//     and may be shared by any number of SendFile calls; a file whose
//     sharing refuses that second open takes the pread path, with the
//     reason in Report.Fallback. The connection's write deadline and Close
//     are noticed within half a second of the moment they apply, not at
//     once: the call's completion is waited for on a thread-pool wait, and
//     the connection is asked every 50-500 ms (a zero-length Write).
//   - Windows: a connection reset is the error net gives there,
//     WSAECONNRESET (syscall.WSAECONNRESET, 10054), which is not
//     syscall.ECONNRESET: Copy, SendFile and Relay return net's errors as
//     they are, on every platform, so check errors.Is(err,
//     syscall.WSAECONNRESET) on Windows as with any net.Conn there.
//   - After a failed write on the buffered path, a file source's offset (or
//     a SectionReader's position) may be past the bytes that arrived, as
//     with io.Copy: the buffer was read but not all of it written. The
//     count returned is exact. The fast paths leave the offset exactly
//     after the bytes that arrived.
//   - Copy(f, f), one file at one offset on both sides, reads and writes
//     in turn, as io.Copy does: the file doubles (Report.Fallback says why
//     no fast path ran).
//   - A file growing while Copy runs is copied until the kernel reports EOF
//     at the size fstat then gives; bytes appended after that are not.
//   - Deadlines are checked when a descriptor has to wait, as the stdlib
//     does: a transfer whose peer keeps up can outrun an expired deadline by
//     one sendfile call.
//   - Pseudo-files (/proc, /sys) report sizes that are not their length.
//     Copy sends a file read at its own offset that reports size 0 (most
//     of /proc) down the buffered path, and for every source a 0 from
//     the kernel counts as EOF only where fstat agrees; otherwise the
//     buffered path reads on and confirms it (kernels 5.3-5.18 returned 0
//     from copy_file_range for such files while they held data).
package zerocopy
