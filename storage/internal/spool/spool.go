// Package spool copies a backend's backup into a temporary file, at the
// pace of the disk, for a client to read at its own: a reader that stalls
// then holds a file, never the backend.
package spool

import (
	"io"
	"os"
)

// File is a spooled copy, open at its start; Close removes it.
type File struct {
	*os.File
	// name is set while the file still has one to remove on Close.
	name string
}

// Close closes the copy, which is then gone.
func (f *File) Close() error {
	err := f.File.Close()
	if f.name != "" {
		os.Remove(f.name)
	}
	return err
}

// Copy makes a temporary file in dir, unlinked at once where the system
// allows it so that not even a crash leaves it behind, lets write fill it,
// and returns it rewound, with the size write reports.
func Copy(dir, pattern string, write func(io.Writer) (int64, error)) (*File, int64, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, 0, err
	}
	sf := &File{File: f, name: f.Name()}
	if os.Remove(f.Name()) == nil {
		sf.name = ""
	}
	size, err := write(f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		sf.Close()
		return nil, 0, err
	}
	return sf, size, nil
}
