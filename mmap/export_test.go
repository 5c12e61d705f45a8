package mmap

// ReadWriteSupported reports whether this build maps with mmap(2).
const ReadWriteSupported = supportsReadWrite
