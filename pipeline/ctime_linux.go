package pipeline

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime is when a file's content or metadata last changed (its
// ctime), which no copy can set back.
func changeTime(info fs.FileInfo) time.Time {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return info.ModTime()
}
