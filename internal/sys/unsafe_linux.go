package sys

import "unsafe"

// unsafeAdd is unsafe.Add, kept in one file so that every unsafe use of the
// package is in one place. Callers stay inside the buffer they advance.
func unsafeAdd(p *byte, k int) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(p), k) }
