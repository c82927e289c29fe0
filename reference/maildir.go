package reference

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Maildir is a Backend that writes each accepted message to a Maildir
// (tmp/, new/, cur/). A message is written to tmp/, fsynced, renamed into
// new/ and the directory fsynced before Data returns, so a 250 reply always
// means the message survives a crash.
type Maildir struct {
	dir  string
	host string
	seq  atomic.Uint64
}

// NewMaildir creates dir and its tmp/, new/ and cur/ subdirectories if
// needed.
func NewMaildir(dir string) (*Maildir, error) {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("maildir: %w", err)
		}
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	// "/" and ":" have meanings in Maildir file names.
	host = strings.NewReplacer("/", `\057`, ":", `\072`).Replace(host)
	return &Maildir{dir: dir, host: host}, nil
}

// Dir returns the Maildir's root directory.
func (m *Maildir) Dir() string { return m.dir }

// NewSession implements Backend.
func (m *Maildir) NewSession(ci ConnInfo) (Session, error) {
	return &envelope{ci: ci, deliver: m.deliver}, nil
}

// deliver writes the trace fields and the content to a new file.
func (m *Maildir) deliver(msg *Message, r io.Reader) (err error) {
	now := time.Now()
	name := strconv.FormatInt(now.Unix(), 10) + ".M" + strconv.Itoa(now.Nanosecond()/1000) +
		"P" + strconv.Itoa(os.Getpid()) + "Q" + strconv.FormatUint(m.seq.Add(1), 10) + "." + m.host
	tmp := filepath.Join(m.dir, "tmp", name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 32<<10)
	w.WriteString(msg.ReturnPath)
	w.WriteString(msg.Received)
	if _, err = io.Copy(w, r); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("maildir: write: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("maildir: fsync: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("maildir: close: %w", err)
	}
	if err = os.Rename(tmp, filepath.Join(m.dir, "new", name)); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	return syncDir(filepath.Join(m.dir, "new"))
}

// syncDir makes a rename into dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("maildir: fsync %s: %w", dir, err)
	}
	return nil
}
