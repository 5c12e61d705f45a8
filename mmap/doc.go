// Package mmap maps files into memory, read-only, read-write or
// copy-on-write, and reads and writes them safely even when another process
// truncates the file underneath.
//
// A mapping turns a file into a []byte: random reads cost no system call
// (a page already in the cache is a memory load), and writing a mapping to
// a socket is the mmap+write path: three copies instead of read+write's
// four. Kafka keeps its offset indexes in mapped files for the first
// reason, and serves the log data itself with sendfile (zerocopy.SendFile).
//
// Measured on the project machine (loopback TCP, page-cached 1 GiB file,
// 5 rounds, BenchmarkToSocket): WriteTo moved 4.57 GB/s at 0.22 CPU-s/GiB,
// SendFile 3.01 GB/s at 0.33 CPU-s/GiB, and random 4 KiB ReadAt took 380 ns
// against 805 ns for os.File.ReadAt (BenchmarkRandomRead4K). Loopback makes
// the copy cheap; with a NIC doing scatter-gather DMA, sendfile avoids the
// CPU copy that mmap+write still makes. Measure on your own path.
//
//	m, err := mmap.Open("index")          // read-only, whole file
//	if err != nil {
//		return err
//	}
//	defer m.Close()
//	n, err := m.ReadAt(entry[:], 16*i)     // io.ReaderAt, no syscall
//
// Coming from golang.org/x/exp/mmap: Open, Len, At, ReadAt and Close are
// there under the same names, and NewReader adds Read, Seek and WriteTo
// with a position of its own. A closed Mapping's error is ErrClosed, which
// is os.ErrClosed for errors.Is.
//
// What the safety costs: ReadAt, At and Reader take a read lock (Close
// must not unmap under a reader) and turn faults into errors
// (runtime/debug.SetPanicOnFault around the copy). For a small read that
// is a few tens of nanoseconds more than copying from Bytes
// (BenchmarkSmallRead); a read within one page makes one protected copy.
// Bytes is the unchecked way, for data that cannot shrink.
//
// # Truncation
//
// Touching a mapped page that lies past the file's end raises SIGBUS, and
// a Go program dies of it. ReadAt, WriteAt and WriteTo turn that fault into
// an error wrapping ErrTruncated, with the bytes moved before the first
// missing page counted exactly: they run with
// runtime/debug.SetPanicOnFault(true) on the calling goroutine (restoring
// its previous setting), copy one page at a time and recover the fault.
// The last page of a shrunk file is still mapped, zero-filled by the kernel
// past the file's new end; after a fault the counts are clamped to the
// file's size (fstat), so n counts the file's bytes only, and WriteTo never
// sends that zero fill.
//
// # Platforms
//
// linux, darwin and freebsd map with mmap(2);
// Resize uses mremap(2) on Linux and unmap+map elsewhere.
//
// windows maps with a section and a view (CreateFileMapping,
// MapViewOfFile): ReadOnly is PAGE_READONLY/FILE_MAP_READ, ReadWrite
// PAGE_READWRITE, CopyOnWrite PAGE_WRITECOPY/FILE_MAP_COPY; the pages are
// the file's, shared with the system cache, and nothing is read into the
// process (TestMapCopiesNothing checks the commit charge). A view starts on
// a 64 KiB allocation-granularity boundary, handled inside like the page
// alignment elsewhere. Sync is FlushViewOfFile then FlushFileBuffers;
// Lock is VirtualLock; Advise WillNeed is PrefetchVirtualMemory, DontNeed
// trims the working set (VirtualUnlock), Normal does nothing, and
// Sequential and Random return an error wrapping errors.ErrUnsupported
// (Windows has no such hint for a view). Resize maps the new view before it
// unmaps the old one, so CopyOnWrite changes in the part that stays are
// kept. Tested under Wine 8 (see the README's Platforms section).
//
// On other platforms, and under the purego build tag, ReadOnly and
// CopyOnWrite read the range into memory (the same API, without the
// sharing), and ReadWrite returns an error wrapping errors.ErrUnsupported.
//
// # Caveats
//
//   - Bytes is not protected. A slice from Bytes that touches a page past a
//     truncated file's end kills the program with SIGBUS unless the
//     goroutine has set runtime/debug.SetPanicOnFault(true) and recovers.
//     Use ReadAt where the file may shrink.
//   - Slices from Bytes are invalid after Close or Resize. Reading one then
//     faults (SIGSEGV) or, if the address was reused, reads other memory.
//   - ReadOnly and ReadWrite mappings share pages with the file: another
//     process's writes show up in Bytes at once, with no synchronisation.
//     CopyOnWrite sees them too, for each page until this process first
//     writes to it.
//   - Map duplicates the file's descriptor: a Mapping holds one descriptor
//     until Close (or until the garbage collector finds it unreachable and
//     its cleanup closes it; do not rely on that for many mappings).
//   - A slice from Bytes does not keep its Mapping reachable. So that a
//     program holding only the slice never crashes, the cleanup of a
//     Mapping dropped without Close unmaps the memory only if Bytes was
//     never called; otherwise the memory stays mapped until the process
//     exits (address space, and page cache the kernel may reclaim). Close
//     every Mapping you call Bytes on.
//   - A read of a shrunk file that ends inside its last page sees the
//     kernel's zero fill without a fault, and so without an error: only an
//     access that reaches a missing page is detected.
//   - Close and Resize wait for ReadAt, WriteAt and WriteTo calls in
//     progress. WriteTo to a slow peer therefore delays Close.
//   - Lock is bounded by RLIMIT_MEMLOCK (often 8 MiB for unprivileged
//     users). On the in-memory copy (other platforms, purego) Lock returns
//     errors.ErrUnsupported and Unlock does nothing.
//   - Map refuses a range past the end of the file; grow the file first.
//   - Windows refuses to shrink a file while a view of it exists
//     (SetEndOfFile fails with ERROR_USER_MAPPED_FILE), so a truncation
//     cannot pull pages from under a mapping there: ErrTruncated comes only
//     from an in-page error (a disk error, or a file on a network share
//     shrunk by another machine), which ReadAt, WriteAt and WriteTo catch
//     the same way. A Mapping holds a handle to the file until Close, so
//     there, as with an open *os.File, the file cannot be deleted or
//     renamed until then.
//   - Windows: Lock is bounded by the process's minimum working set
//     (SetProcessWorkingSetSize); DontNeed keeps CopyOnWrite changes
//     (Linux drops them) and ends a Lock.
package mmap
