//go:build unix

package disk

import (
	"io/fs"
	"syscall"
)

// inode is the file's inode number: a file replaced by a rename gets a new one, which its time and
// size (kept by the kernel at a few milliseconds' resolution) may not show.
func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
