//go:build (linux || windows) && !purego

package directio

// DirectBuild reports whether this build can open files for direct I/O
// (O_DIRECT; FILE_FLAG_NO_BUFFERING on Windows).
const DirectBuild = true
