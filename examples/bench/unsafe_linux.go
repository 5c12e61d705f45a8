package main

import "unsafe"

// unsafePointer is the address of b's first byte, for mincore(2). Safe:
// callers pass non-empty slices they keep alive across the call, and the
// kernel only reads the range (and writes vec, which it sizes).
func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }
