//go:build linux && !purego

package directio

// DirectBuild reports whether this build can open files with O_DIRECT.
const DirectBuild = true
