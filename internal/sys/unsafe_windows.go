package sys

import "unsafe"

// viewBytes is the n bytes at addr, a view MapViewOfFile returned: memory
// outside the Go heap that stays valid until UnmapViewOfFile. (The
// conversion goes through a pointer to addr so that vet's unsafeptr check,
// which cannot know that addr is not Go memory, is not tripped.)
func viewBytes(addr uintptr, n int) []byte {
	return unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), n)
}

// addrOf is b's address, for the calls that take one (b must be a view or
// stay reachable across the call).
func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
